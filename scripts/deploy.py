"""Deploy AnchorRegistry v2 and write the deployment manifest `deployments/<network>.json`.

    brownie run scripts/deploy.py main [admin=0x..] [delay=SECONDS] [registrar=0x..]
                                       [pauser=0x..] [revoker=0x..] --network NETWORK
    brownie run scripts/deploy.py help

The constructor is ``(uint48 initialDelay, address initialAdmin)``. ``admin`` receives
DEFAULT_ADMIN_ROLE (default: the deployer) and no other role. ``delay`` is the admin delay in
seconds, the wait of a two-step admin transfer (admin.py): 0 by default on a development
network, 172800 (2 days) elsewhere; less than 2 days on a live network is allowed with a warning.
``registrar``, ``pauser`` and ``revoker`` (each may be repeated) are granted right after the
deployment, signed by the deployer, which must then be the admin; REVOKER_ROLE is granted only
when asked. The deployer is accounts[0] on a development network; on a live network it is the
brownie account ANCHOR_BROWNIE_ACCOUNT or the private key ANCHOR_DEPLOYER_KEY.

The manifest records chainId, address, deploymentBlock, deployer, admin, adminDelay,
artifactSha256 (sha256 of anchor/chain/AnchorRegistry.json), compiler, contractVersion and
deployedAt. What is deployed is the committed artifact's `bytecode`, the contract the service
loads; the runtime bytecode on chain must then equal its `deployedBytecode` but for the
immutable words of EIP-712 (zero in the artifact, filled in by the constructor: the chain id, the
registry's address, the domain separator, the hashed and short name and version), which must
hold exactly the values expected for this chain and address; otherwise the manifest is not
written. An existing manifest whose registry is still on the chain is never overwritten on
a live network.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

from scripts import _args, _chain, _common
from scripts._common import OperatorError, command

USAGE = __doc__ or ""
#: The default admin delay on a network that is not a development one: 2 days.
LIVE_DELAY = 172_800
_GRANTED = ("registrar", "pauser", "revoker")


def help() -> None:
    """Print the usage."""
    print(USAGE)


def _plan(specs: tuple[str, ...]) -> tuple[str | None, int | None, list[tuple[str, str]]]:
    """Return (admin, delay, grants) from the NAME=VALUE arguments."""
    found = _args.options(specs, ("admin", "delay", *_GRANTED), repeat=_GRANTED)
    admin = _args.one(found, "admin")
    delay = _args.one(found, "delay")
    grants = [
        (role, _args.parse_address(address, f"{role} address"))
        for role in _GRANTED
        for address in found.get(role, [])
    ]
    return (
        _args.parse_address(admin, "admin") if admin is not None else None,
        _args.parse_count(delay, "delay", high=2**48 - 1) if delay is not None else None,
        grants,
    )


def immutable_words(address: str, chain_id: int) -> list[bytes]:
    """The 32-byte words OpenZeppelin's EIP712 constructor stores as immutables for the domain
    {name: "AnchorRegistry", version: "2"} (docs/registry.md) at ``address`` on ``chain_id``."""
    from eth_abi.abi import encode
    from eth_utils.crypto import keccak

    name, version = b"AnchorRegistry", b"2"
    type_hash = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    separator = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [type_hash, keccak(name), keccak(version), chain_id, address],
        )
    )

    def short(text: bytes) -> bytes:  # OpenZeppelin ShortString: bytes, then the length
        return text.ljust(31, b"\0") + bytes([len(text)])

    return [
        chain_id.to_bytes(32, "big"),
        separator,
        bytes.fromhex(address[2:]).rjust(32, b"\0"),
        keccak(name),
        keccak(version),
        short(name),
        short(version),
    ]


def runtime_matches(code: bytes, expected: bytes, address: str, chain_id: int) -> bool:
    """True when ``code`` is ``expected`` (the artifact's deployedBytecode) once every immutable
    word, zero in the artifact, is found to hold one of the `immutable_words`."""
    if len(code) != len(expected):
        return False
    masked = bytearray(code)
    for word in immutable_words(address, chain_id):
        at = code.find(word)
        while at != -1:
            if expected[at : at + 32] == bytes(32):
                masked[at : at + 32] = bytes(32)
            at = code.find(word, at + 1)
    return bytes(masked) == expected


def _refuse_overwrite(network_id: str) -> None:
    from brownie import chain, web3
    from brownie._config import CONFIG

    path = _common.manifest_path(network_id)
    if CONFIG.network_type == "development" or not path.exists():
        return
    try:
        old = json.loads(path.read_text())
        live = int(old["chainId"]) == chain.id and len(web3.eth.get_code(old["address"])) > 0
    except (ValueError, KeyError, TypeError):
        return
    if live:
        raise OperatorError(
            f"a registry is already deployed on {network_id!r} at {old['address']} ({path}): "
            "move that manifest away to deploy another."
        )


def _create(deployer: Any, bytecode: str, delay: int, admin: str) -> Any:
    """Send the contract creation of the committed bytecode and return its receipt.

    Not `AnchorRegistry.deploy`: on a live network brownie 1.22.2 then records the deployment in
    its own database from a background thread, which fails in its compiled build ("TypeError:
    dict object expected; got brownie.project.sources.Sources") and prints a traceback after a
    good deployment. The manifest is the record; the bytecode is the artifact the service loads.
    """
    from eth_abi.abi import encode

    arguments = encode(["uint48", "address"], [delay, admin]).hex()
    fees = {k: v for k, v in _common.tx(deployer).items() if k != "from"}
    receipt = deployer.transfer(data=bytecode + arguments, **fees)
    if receipt.status != 1 or not receipt.contract_address:
        raise OperatorError(f"the deployment transaction {receipt.txid} failed.")
    print(f"AnchorRegistry deployed at {receipt.contract_address}")
    return receipt


@command
def main(*specs: str) -> dict[str, Any]:
    """Deploy the registry; return the manifest."""
    from brownie import chain, web3
    from brownie._config import CONFIG

    admin, delay, planned = _plan(specs)
    network_id = _common.active_network()
    _common.check_configured_chain()
    _refuse_overwrite(network_id)
    development = CONFIG.network_type == "development"
    if delay is None:
        delay = 0 if development else LIVE_DELAY
    elif delay < LIVE_DELAY and not development:
        print(
            f"warning: an admin delay of {delay} s on the live network {network_id!r}: whoever "
            "holds the admin key can hand the admin role over after that wait; the default "
            f"is {LIVE_DELAY} s (2 days).",
            file=sys.stderr,
        )
    deployer = _common.operator_account()
    admin_address = admin or deployer.address
    if planned and admin_address != deployer.address:
        raise OperatorError(
            f"cannot grant roles: the deployer {deployer.address} is not the admin {admin_address}."
        )
    committed, artifact_sha = _common.artifact()

    receipt = _create(deployer, committed["bytecode"], delay, admin_address)
    address = receipt.contract_address
    code = bytes(web3.eth.get_code(address))
    expected = bytes.fromhex(committed["deployedBytecode"].removeprefix("0x"))
    if not runtime_matches(code, expected, address, chain.id):
        raise OperatorError(
            f"the runtime bytecode deployed at {address} differs from the committed "
            "artifact's deployedBytecode; do not use this deployment."
        )
    contract = _common.registry({"address": address})
    for role, account in planned:
        _chain.send(contract, "grantRole", (_common.role_id(role), account), deployer)
        print(f"granted {role} to {account}")

    manifest = {
        "network": network_id,
        "chainId": chain.id,
        "address": contract.address,
        "deploymentBlock": receipt.block_number,
        "deploymentTx": receipt.txid,
        "deployer": deployer.address,
        "admin": admin_address,
        "adminDelay": delay,
        "artifactSha256": artifact_sha,
        "compiler": committed["compiler"]["version"],
        "contractVersion": contract.version(),
        "deployedAt": datetime.fromtimestamp(receipt.timestamp, UTC)
        .isoformat()
        .replace("+00:00", "Z"),
    }
    path = _common.manifest_path(network_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"AnchorRegistry {contract.address} on chain {chain.id}; manifest {path}")
    return manifest


_common.check_function(__file__, ("main", "help"), USAGE)
