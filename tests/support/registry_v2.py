"""Registry v2 under test: a deployed world of roles and bodies, and the helpers the contract
tests share (send, exact custom errors, every log of a receipt decoded, the chain's clock).

The world (`deploy_world`): the admin (development account 0, delay 0 unless asked) grants
``REGISTRAR_ROLE``, ``PAUSER_ROLE`` and ``REVOKER_ROLE`` to three other development accounts and
nothing to itself; the registrar registers three bodies, each with one anchoring key and one
status key. Body keys are derived from a label (reproducible runs) and funded through anvil.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError

from anchor.chain.devchain import dev_key
from anchor.chain.registry import (
    PAUSER_ROLE,
    REGISTRAR_ROLE,
    REVOKER_ROLE,
    Kind,
    Names,
    Purpose,
    Registry,
    SignedAnchor,
    decode_revert,
    deploy_registry,
    sign_anchor,
)
from anchor.merkle.hashing import keccak256

ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20
MAX_UINT32 = 2**32 - 1
#: The fees of every test transaction unless given: explicit, and far above anvil's base fee
#: (which starts at 1 gwei and only falls on these nearly empty blocks), so no request asks.
TEST_FEES = {"maxFeePerGas": 50 * 10**9, "maxPriorityFeePerGas": 10**9}
#: The gas of every test transaction: no estimate, which would run at the latest block's time
#: rather than the one set for the next block, and would refuse a call meant to revert on chain.
TX_GAS = 3_000_000

BODY_NAMES = (
    Names("Commune de Contern", "Gemeinde Contern", "Municipality of Contern", "Gemeng Conter"),
    Names("Syndicat SIGI", "Syndikat SIGI", "SIGI syndicate"),
    Names("Office social de Mersch", "Sozialamt Mersch", "Mersch social office"),
)
BODY_CODES = ("LU-CONTERN", "LU-SIGI", "LU-OS-MERSCH")
BODY_KINDS = (Kind.COMMUNE, Kind.SYNDICATE, Kind.SOCIAL_OFFICE)


# --- the chain ------------------------------------------------------------------------------


def rpc(w3: Web3, method: str, params: Sequence[Any] = ()) -> Any:
    """Call a JSON-RPC method of the node; fail the test on an error answer."""
    response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in response, f"{method}: {response['error']}"
    return response.get("result")


@cache
def _account(label: str) -> LocalAccount:
    account: LocalAccount = Account.from_key(keccak256(b"anchor-tests/" + label.encode()))
    return account


def labelled_key(w3: Web3, label: str) -> LocalAccount:
    """A fresh account derived from ``label``, with 100 ether on anvil."""
    account = _account(label)
    rpc(w3, "anvil_setBalance", [account.address, hex(100 * 10**18)])
    return account


def latest_time(w3: Web3) -> int:
    """The timestamp of the latest block."""
    return int(w3.eth.get_block("latest")["timestamp"])


def block_time(w3: Web3, receipt: dict[str, Any]) -> int:
    """The timestamp of the block that holds ``receipt``."""
    return int(w3.eth.get_block(receipt["blockNumber"])["timestamp"])


def set_next_time(w3: Web3, timestamp: int) -> int:
    """Give the next block the time ``timestamp``; return it."""
    rpc(w3, "evm_setNextBlockTimestamp", [timestamp])
    return timestamp


def next_time(w3: Web3, seconds_after_latest: int = 1) -> int:
    """Give the next block the time ``seconds_after_latest`` after the latest; return it."""
    return set_next_time(w3, latest_time(w3) + seconds_after_latest)


def mine(w3: Web3, seconds: int = 1) -> int:
    """Mine an empty block ``seconds`` after the latest; return its timestamp."""
    timestamp = next_time(w3, seconds)
    rpc(w3, "evm_mine", [])
    return timestamp


def send(
    w3: Web3,
    account: LocalAccount,
    call: Any,
    *,
    gas: int = TX_GAS,
    fees: dict[str, int] | None = None,
    wait: bool = True,
    expect_success: bool = True,
) -> dict[str, Any]:
    """Sign and send a contract call from ``account``.

    Returns the receipt (``wait``), else ``{"transactionHash": ...}``. A call that reverts is
    mined all the same (``expect_success=False`` to look at it); else its error fails the test.
    """
    fields: dict[str, Any] = {
        "from": account.address,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "gas": gas,
        **(fees if fees is not None else TEST_FEES),
    }
    tx = call.build_transaction(fields)
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    if not wait:
        return {"transactionHash": tx_hash}
    receipt = dict(w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30))
    if expect_success and receipt["status"] != 1:
        raise AssertionError(f"transaction reverted with {mined_revert(w3, receipt)}")
    return receipt


# --- reverts --------------------------------------------------------------------------------


def revert_of(call: Any, by: str) -> tuple[str, tuple[Any, ...]]:
    """Run ``call`` as an eth_call from ``by``; return its custom error (name, arguments).

    Fails the test when the call succeeds or reverts without a known custom error.
    """
    try:
        result = call.call({"from": by})
    except ContractCustomError as e:
        data = e.data if isinstance(e.data, str) else str(e.data)
        decoded = decode_revert(data)
        assert decoded is not None, f"unknown revert data {data}"
        return decoded
    except ContractLogicError as e:  # pragma: no cover - a failure message
        raise AssertionError(f"reverted without a custom error: {e!r}") from e
    raise AssertionError(f"expected a revert, the call returned {result!r}")


def normalise(value: Any) -> Any:
    """Addresses checksummed, bytes as bytes, tuples as tuples: comparable with ``==``."""
    if isinstance(value, HexBytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and Web3.is_address(value) and value.startswith("0x"):
        return Web3.to_checksum_address(value)
    if isinstance(value, list | tuple):
        return tuple(normalise(v) for v in value)
    if isinstance(value, Mapping):  # a struct in an event: its fields, in order
        return tuple(normalise(v) for v in value.values())
    return value


def assert_reverts(call: Any, by: str, name: str, *args: Any) -> None:
    """Assert that ``call`` from ``by`` reverts with exactly the custom error ``name(*args)``."""
    got = revert_of(call, by)
    assert (got[0], normalise(got[1])) == (name, normalise(args)), (
        f"reverted with {got[0]}{got[1]!r}, expected {name}{args!r}"
    )


def unauthorized(account: str, role: bytes) -> tuple[str, str, bytes]:
    """The arguments of ``assert_reverts`` for a missing role."""
    return ("AccessControlUnauthorizedAccount", account, role)


# --- events ---------------------------------------------------------------------------------


def _event_table(contract: Contract) -> dict[bytes, str]:
    table = {}
    for item in contract.abi:
        if item["type"] == "event":
            types = ",".join(_abi_type(i) for i in item["inputs"])
            table[bytes(Web3.keccak(text=f"{item['name']}({types})"))] = item["name"]
    return table


def _abi_type(item: Any) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in item["components"])
        return f"({inner}){item['type'][len('tuple') :]}"
    return str(item["type"])


def logs_of(contract: Contract, receipt: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every log of ``receipt``, in order, as (event name, arguments); every one must be the
    contract's (an unknown or foreign log fails the test)."""
    table = _event_table(contract)
    out = []
    for log in receipt["logs"]:
        assert Web3.to_checksum_address(log["address"]) == contract.address, log
        name = table[bytes(log["topics"][0])]
        decoded = getattr(contract.events, name)().process_log(log)
        out.append((name, {k: normalise(v) for k, v in dict(decoded["args"]).items()}))
    return out


def assert_logs(
    contract: Contract, receipt: dict[str, Any], *expected: tuple[str, dict[str, Any]]
) -> None:
    """Assert that ``receipt`` holds exactly the ``expected`` events, in order."""
    want = [(name, {k: normalise(v) for k, v in args.items()}) for name, args in expected]
    got = logs_of(contract, receipt)
    assert got == want, f"events {got!r}, expected {want!r}"


def unpack_anchors(data: bytes) -> list[tuple[int, bytes]]:
    """The ``anchors`` of a ``RootsAnchored`` event: (uint32 bodyId, bytes32 root), 36 bytes
    each."""
    assert len(data) % 36 == 0, f"{len(data)} bytes is not a whole number of anchors"
    return [
        (int.from_bytes(data[i : i + 4], "big"), bytes(data[i + 4 : i + 36]))
        for i in range(0, len(data), 36)
    ]


def root_of(label: str | int) -> bytes:
    """A distinct, random-looking 32-byte root."""
    return keccak256(f"root-{label}".encode())


# --- the world ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """A registered body and its two keys."""

    id: int
    kind: Kind
    code: str
    names: Names
    anchoring: LocalAccount
    status: LocalAccount


@dataclass
class World:
    """The deployed registry, its role holders and bodies; each method is one transaction."""

    w3: Web3
    registry: Registry
    chain_id: int
    admin: LocalAccount
    registrar: LocalAccount
    pauser: LocalAccount
    revoker: LocalAccount
    relayer: LocalAccount
    other: LocalAccount
    bodies: list[Body] = field(default_factory=list)

    @property
    def fns(self) -> Any:
        """The contract's functions."""
        return self.registry.contract.functions

    @property
    def contract(self) -> Contract:
        """The web3 contract."""
        return self.registry.contract

    def by_registrar(self, call: Any) -> dict[str, Any]:
        """Send ``call`` from the registrar."""
        return send(self.w3, self.registrar, call)

    def register_body(
        self, label: str, kind: Kind = Kind.OTHER, code: str = "", names: Names | None = None
    ) -> Body:
        """Register a body with a fresh anchoring key and a fresh status key."""
        names = names or Names(f"Organisme {label}", f"Stelle {label}", f"Body {label}")
        self.by_registrar(self.fns.registerBody(kind, code, names.as_tuple()))
        body_id = int(self.fns.bodyCount().call())
        anchoring = self.add_key(body_id, Purpose.ANCHORING, f"{label}/anchoring")
        status = self.add_key(body_id, Purpose.STATUS, f"{label}/status")
        body = Body(body_id, kind, code, names, anchoring, status)
        self.bodies.append(body)
        return body

    def add_key(
        self, body_id: int, purpose: Purpose, label: str, valid_from: int = 0, valid_until: int = 0
    ) -> LocalAccount:
        """Add a fresh key derived from ``label`` to a body; return it."""
        key = labelled_key(self.w3, label)
        self.by_registrar(self.fns.addKey(body_id, key.address, purpose, valid_from, valid_until))
        return key

    def anchor(self, key: LocalAccount, root: bytes, leaf_count: int = 1) -> dict[str, Any]:
        """Anchor ``root`` directly from ``key``."""
        return send(self.w3, key, self.fns.anchor(root, leaf_count))

    def sign(
        self,
        key: LocalAccount,
        root: bytes,
        leaf_count: int,
        deadline: int,
        relayer: str | None = None,
    ) -> SignedAnchor:
        """A relayed anchor signed by ``key`` for the relayer (default: the world's)."""
        return sign_anchor(
            key,
            self.chain_id,
            self.registry.address,
            root,
            leaf_count,
            relayer or self.relayer.address,
            deadline,
        )

    def relay_call(self, deadline: int, items: Sequence[SignedAnchor]) -> Any:
        """The ``anchorSigned`` call of ``items``."""
        return self.fns.anchorSigned(deadline, [a.as_tuple() for a in items])

    def deadline(self, seconds: int = 3600) -> int:
        """A deadline ``seconds`` after the latest block."""
        return latest_time(self.w3) + seconds

    def revoke_root(self, actor: LocalAccount, body_id: int, root: bytes, reason: int = 1) -> Any:
        """Revoke a whole root as ``actor``; return the receipt."""
        return send(self.w3, actor, self.fns.revokeRoot(body_id, root, reason))


def deploy_world(w3: Web3, chain_id: int, delay: int = 0) -> World:
    """Deploy the registry and set up the roles and the three bodies (see the module doc)."""
    admin, revoker, other, registrar, pauser, relayer = (
        Account.from_key(dev_key(i)) for i in (0, 2, 3, 5, 6, 7)
    )
    address, _ = deploy_registry(w3, admin, delay=delay)
    registry = Registry(w3, address)
    world = World(w3, registry, chain_id, admin, registrar, pauser, revoker, relayer, other)
    fns = registry.contract.functions
    for role, account in (
        (REGISTRAR_ROLE, registrar),
        (PAUSER_ROLE, pauser),
        (REVOKER_ROLE, revoker),
    ):
        send(w3, admin, fns.grantRole(role, account.address))
    for i, (names, code, kind) in enumerate(zip(BODY_NAMES, BODY_CODES, BODY_KINDS, strict=True)):
        world.register_body(f"body{i + 1}", kind, code, names)
    return world


def mined_revert(w3: Web3, receipt: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """The custom error of a mined transaction that reverted, read back with anvil's call tracer."""
    assert receipt["status"] == 0, "the transaction did not revert"
    tx_hash = receipt["transactionHash"]
    trace = rpc(w3, "debug_traceTransaction", [Web3.to_hex(tx_hash), {"tracer": "callTracer"}])
    decoded = decode_revert(trace.get("output", "0x"))
    assert decoded is not None, f"unknown revert data {trace.get('output')}"
    return decoded


def assert_mined_revert(w3: Web3, receipt: dict[str, Any], name: str, *args: Any) -> None:
    """Assert that a mined transaction reverted with exactly ``name(*args)``."""
    got = mined_revert(w3, receipt)
    assert (got[0], normalise(got[1])) == (name, normalise(args)), (
        f"reverted with {got[0]}{got[1]!r}, expected {name}{args!r}"
    )


def recover(digest: bytes, r: bytes, vs: bytes) -> str | None:
    """What the contract's ecrecover of an EIP-2098 signature (r, vs) gives: an address, or None
    when the signature recovers no address (r off the curve, r or s out of range)."""
    from eth_keys.datatypes import Signature
    from eth_keys.exceptions import BadSignature
    from eth_utils.exceptions import ValidationError

    word = int.from_bytes(vs, "big")
    r_int, s_int, parity = int.from_bytes(r, "big"), word & ((1 << 255) - 1), word >> 255
    try:
        signature = Signature(vrs=(parity, r_int, s_int))
        public = signature.recover_public_key_from_msg_hash(digest)
    except (BadSignature, ValidationError, ValueError):
        return None
    return str(public.to_checksum_address())


def pending_to(w3: Web3, address: str) -> list[dict[str, Any]]:
    """The transactions to ``address`` waiting in the node's mempool (``txpool_content``)."""
    pool = rpc(w3, "txpool_content")
    found = []
    for by_nonce in pool["pending"].values():
        for tx in by_nonce.values():
            if tx.get("to") and Web3.to_checksum_address(tx["to"]) == address:
                found.append(tx)
    return found


def send_data(
    w3: Web3, account: LocalAccount, to: str, data: str, fees: dict[str, int], gas: int = TX_GAS
) -> bytes:
    """Send raw call data (say, copied from someone else's pending transaction); return the hash."""
    tx: dict[str, Any] = {
        "to": to,
        "data": data,
        "gas": gas,
        "value": 0,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "chainId": w3.eth.chain_id,
        **fees,
    }
    return bytes(w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction))
