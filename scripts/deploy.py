"""Deploy AnchorRegistry and write the deployment manifest `deployments/<network>.json`.

    brownie run scripts/deploy.py main [ADMIN] [issuer=0x..] [revoker=0x..] --network NETWORK
    brownie run scripts/deploy.py help

ADMIN receives DEFAULT_ADMIN_ROLE (default: the deployer); each ROLE=ADDRESS grants a role
(issuer, revoker or admin) right after the deployment, signed by the deployer, which must then
be the admin. The deployer is accounts[0] on a development network; on a live network it is the
brownie account ANCHOR_BROWNIE_ACCOUNT or the private key ANCHOR_DEPLOYER_KEY.

The manifest records chainId, address, deploymentBlock, deployer, admin, artifactSha256 (sha256
of anchor/chain/AnchorRegistry.json), compiler and deployedAt. What is deployed is the committed
artifact's `bytecode`, the contract the service loads; the runtime bytecode on chain must then
equal its `deployedBytecode`, or the manifest is not written. An existing
manifest whose registry is still on the chain is never overwritten on a live network.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from scripts import _common
from scripts._common import OperatorError, command

USAGE = __doc__ or ""


def help() -> None:
    """Print the usage."""
    print(USAGE)


def _grants(specs: tuple[str, ...]) -> list[tuple[str, str]]:
    grants = []
    for spec in specs:
        role, sep, address = str(spec).partition("=")
        if not sep:
            raise OperatorError(f"grant {spec!r} is not ROLE=ADDRESS (for example issuer=0x...).")
        _common.role_id(role)
        grants.append((role.strip().lower(), _common.parse_address(address, f"{role} address")))
    return grants


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


def _create(deployer: Any, bytecode: str, admin: str) -> Any:
    """Send the contract creation of the committed bytecode and return its receipt.

    Not `AnchorRegistry.deploy`: on a live network brownie 1.22.2 then records the deployment in
    its own database from a background thread, which fails in its compiled build ("TypeError:
    dict object expected; got brownie.project.sources.Sources") and prints a traceback after a
    good deployment. The manifest is the record; the bytecode is the artifact the service loads.
    """
    from eth_abi import encode

    arguments = encode(["address"], [admin]).hex()
    fees = {k: v for k, v in _common.tx(deployer).items() if k != "from"}
    receipt = deployer.transfer(data=bytecode + arguments, **fees)
    if receipt.status != 1 or not receipt.contract_address:
        raise OperatorError(f"the deployment transaction {receipt.txid} failed.")
    print(f"AnchorRegistry deployed at {receipt.contract_address}")
    return receipt


@command
def main(admin: str | None = None, *grants: str) -> dict[str, Any]:
    """Deploy the registry; return the manifest."""
    from brownie import chain, web3

    if admin is not None and "=" in str(admin):
        grants, admin = (str(admin), *grants), None
    planned = _grants(grants)
    network_id = _common.active_network()
    _common.check_configured_chain()
    _refuse_overwrite(network_id)
    deployer = _common.operator_account()
    admin_address = _common.parse_address(admin, "admin") if admin else deployer.address
    if planned and admin_address != deployer.address:
        raise OperatorError(
            f"cannot grant roles: the deployer {deployer.address} is not the admin {admin_address}."
        )
    committed, artifact_sha = _common.artifact()

    receipt = _create(deployer, committed["bytecode"], admin_address)
    address = receipt.contract_address
    code = "0x" + bytes(web3.eth.get_code(address)).hex()
    if code.lower() != committed["deployedBytecode"].lower():
        raise OperatorError(
            f"the runtime bytecode deployed at {address} differs from the committed "
            "artifact's deployedBytecode; do not use this deployment."
        )
    contract = _common.registry({"address": address})
    for role, address in planned:
        contract.grantRole(_common.role_id(role), address, _common.tx(deployer))
        print(f"granted {role} to {address}")

    manifest = {
        "network": network_id,
        "chainId": chain.id,
        "address": contract.address,
        "deploymentBlock": receipt.block_number,
        "deploymentTx": receipt.txid,
        "deployer": deployer.address,
        "admin": admin_address,
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
