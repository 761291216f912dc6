"""AnchorRegistry against a real anvil node: every function, every custom error, every event.

Reverts are checked by their exact custom error and ABI-encoded arguments, read from the revert
data of an ``eth_call``; events by their exact decoded arguments, and by the number of logs, so
that an extra or a missing event is caught too. Each test runs on a snapshot of the session's
deployed registry (see the ``registry`` fixture).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

from anchor.chain.registry import (
    DEFAULT_ADMIN_ROLE,
    ISSUER_ROLE,
    REVOKER_ROLE,
    Registry,
    deploy_registry,
    load_artifact,
)
from anchor.merkle.hashing import hash_pair, keccak256, leaf_hash
from tests.support.chain import Accounts, send

pytestmark = pytest.mark.chain

ZERO_ADDRESS = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
MAX_UINT32 = 2**32 - 1
ISSUER_NAME = "Commune de Contern"
#: The hard gas budget of one `anchor` transaction, whatever its leaf count.
ANCHOR_GAS_BUDGET = 52_000


# --- revert data ------------------------------------------------------------------------------

_ERRORS = {e["name"]: e for e in load_artifact().abi if e["type"] == "error"}


def _error_types(name: str) -> list[str]:
    return [i["type"] for i in _ERRORS[name]["inputs"]]


def _selector(name: str) -> bytes:
    return Web3.keccak(text=f"{name}({','.join(_error_types(name))})")[:4]


def error_data(name: str, *args: Any) -> bytes:
    """The revert data of custom error ``name`` with ``args``: selector ++ abi.encode(args)."""
    return _selector(name) + encode(_error_types(name), list(args))


def describe_revert(data: bytes) -> str:
    """Decode revert data into ``Name(args)`` for readable failures."""
    for name in _ERRORS:
        if data[:4] == _selector(name):
            try:
                return f"{name}{decode(_error_types(name), data[4:])!r}"
            except DecodingError as e:
                return f"{name} with undecodable arguments {data[4:].hex()} ({e})"
    return f"unknown revert data 0x{data.hex()}"


def revert_data(call: Any, by: LocalAccount) -> bytes:
    """Run ``call`` as an eth_call from ``by`` and return its revert data; fail if it succeeds.

    A contract function call is run with ``.call``; a constructor (which has no ``.call``) with
    ``estimate_gas``, which executes the creation code the same way.
    """
    try:
        if hasattr(call, "call"):
            result = call.call({"from": by.address})
        else:
            result = call.estimate_gas({"from": by.address})
    except ContractCustomError as e:
        assert isinstance(e.data, str), f"revert data is not hex: {e.data!r}"
        return bytes.fromhex(e.data.removeprefix("0x"))
    pytest.fail(f"expected a revert, the call returned {result!r}")


def assert_reverts(call: Any, name: str, *args: Any, by: LocalAccount) -> None:
    """Assert that ``call`` from ``by`` reverts with exactly the custom error ``name(*args)``."""
    data = revert_data(call, by)
    expected = error_data(name, *args)
    assert data == expected, (
        f"reverted with {describe_revert(data)}, expected {describe_revert(expected)}"
    )


def test_assert_reverts_tells_errors_apart(registry: Registry, accounts: Accounts) -> None:
    """The helper itself: another error, or other arguments, do not match."""
    call = registry.contract.functions.anchor(ZERO32, 1)
    with pytest.raises(AssertionError, match="RegistryZeroRoot"):
        assert_reverts(call, "RegistryZeroLeafCount", by=accounts.issuer)
    root = anchor_root(registry, accounts.issuer, _root(1), 1)[0]
    again = registry.contract.functions.anchor(root, 1)
    with pytest.raises(AssertionError, match="RegistryRootAlreadyAnchored"):
        assert_reverts(again, "RegistryRootAlreadyAnchored", _root(2), by=accounts.issuer)
    with pytest.raises(pytest.fail.Exception, match="expected a revert"):
        assert_reverts(
            registry.contract.functions.version(), "RegistryZeroRoot", by=accounts.issuer
        )


# --- events and chain helpers -----------------------------------------------------------------


def events(contract: Contract, receipt: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The decoded arguments of every ``name`` event of ``contract`` in ``receipt``."""
    decoded = getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD)
    return [dict(e["args"]) for e in decoded]


def assert_only_event(
    contract: Contract, receipt: dict[str, Any], event: str, /, **args: Any
) -> None:
    """Assert that ``receipt`` holds exactly one log: ``event`` with exactly ``args``."""
    assert receipt["status"] == 1
    assert len(receipt["logs"]) == 1, f"expected one log, got {len(receipt['logs'])}"
    assert events(contract, receipt, event) == [args]


def block_time(w3: Web3, receipt: dict[str, Any]) -> int:
    """The timestamp of the block that holds ``receipt``."""
    return int(w3.eth.get_block(receipt["blockNumber"])["timestamp"])


def set_next_block_time(w3: Web3, seconds_after_latest: int) -> int:
    """Give the next block the time ``seconds_after_latest`` after the latest one; return it."""
    timestamp = int(w3.eth.get_block("latest")["timestamp"]) + seconds_after_latest
    response = w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]
    assert "error" not in response, response
    return timestamp


def _root(i: int) -> bytes:
    """A distinct 32-byte root, as random-looking as a real one."""
    return keccak256(b"root-%d" % i)


def anchor_root(
    registry: Registry, issuer: LocalAccount, root: bytes, leaf_count: int
) -> tuple[bytes, dict[str, Any]]:
    """Anchor ``root`` as ``issuer``; return (root, receipt)."""
    receipt = send(registry.w3, issuer, registry.contract.functions.anchor(root, leaf_count))
    assert receipt["status"] == 1
    return root, receipt


# --- a local OpenZeppelin standard tree -------------------------------------------------------


class Tree:
    """The OpenZeppelin ``StandardMerkleTree`` layout over (salt, digest) values, for tests."""

    def __init__(self, values: Sequence[tuple[bytes, bytes]]) -> None:
        self.values = list(values)
        self.leaves = [leaf_hash(s, d) for s, d in self.values]
        ordered = sorted(self.leaves)
        size = 2 * len(ordered) - 1
        self._nodes: list[bytes] = [b""] * size
        for i, leaf in enumerate(ordered):
            self._nodes[size - 1 - i] = leaf
        for i in range(len(ordered) - 2, -1, -1):
            self._nodes[i] = hash_pair(self._nodes[2 * i + 1], self._nodes[2 * i + 2])

    @property
    def root(self) -> bytes:
        return self._nodes[0]

    def proof(self, index: int) -> list[bytes]:
        """The proof of value ``index`` (in the order given)."""
        i = self._nodes.index(self.leaves[index])
        proof = []
        while i > 0:
            proof.append(self._nodes[i + 1 if i % 2 else i - 1])
            i = (i - 1) // 2
        return proof


def make_tree(tag: str, size: int) -> Tree:
    values = [
        (keccak256(f"salt-{tag}-{i}".encode()), keccak256(f"doc-{tag}-{i}".encode()))
        for i in range(size)
    ]
    return Tree(values)


def test_local_tree_matches_the_known_openzeppelin_root() -> None:
    """Two values whose root was computed with @openzeppelin/merkle-tree 1.0.8."""
    tree = Tree([(b"\x11" * 32, b"\x22" * 32), (b"\x33" * 32, b"\x44" * 32)])
    assert tree.root.hex() == "c05f469820eb45023db3ddbe6557ebe34bf758acf38d53073624dc337ef57a2b"
    assert (
        tree.leaves[0].hex() == "430512f17360cbcc5c79d8c40984b7ce0ce7161c0b2d25997f5a3bf05c2a24b0"
    )
    assert tree.proof(0) == [tree.leaves[1]]


@pytest.fixture
def anchored(registry: Registry, accounts: Accounts) -> tuple[Tree, dict[str, Any]]:
    """A 5-leaf tree anchored by the issuer; (tree, receipt)."""
    tree = make_tree("anchored", 5)
    _, receipt = anchor_root(registry, accounts.issuer, tree.root, 5)
    return tree, receipt


# --- version and constructor ------------------------------------------------------------------


def test_version(registry: Registry) -> None:
    assert registry.contract.functions.version().call() == "1.0.0"
    assert registry.version() == "1.0.0"


def test_role_constants(registry: Registry) -> None:
    fns = registry.contract.functions
    assert fns.ISSUER_ROLE().call() == ISSUER_ROLE == keccak256(b"ISSUER_ROLE")
    assert fns.REVOKER_ROLE().call() == REVOKER_ROLE == keccak256(b"REVOKER_ROLE")
    assert fns.DEFAULT_ADMIN_ROLE().call() == DEFAULT_ADMIN_ROLE
    assert fns.getRoleAdmin(ISSUER_ROLE).call() == DEFAULT_ADMIN_ROLE
    assert fns.getRoleAdmin(REVOKER_ROLE).call() == DEFAULT_ADMIN_ROLE


def test_constructor_rejects_zero_admin(w3: Web3, registry: Registry, accounts: Accounts) -> None:
    artifact = load_artifact()
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    assert_reverts(factory.constructor(ZERO_ADDRESS), "RegistryZeroAdmin", by=accounts.admin)


def test_constructor_grants_admin_only_to_the_given_account(
    w3: Web3, registry: Registry, accounts: Accounts
) -> None:
    address, block = deploy_registry(w3, accounts.admin, admin=accounts.other.address)
    fresh = Registry(w3, address)
    receipt = dict(
        w3.eth.get_transaction_receipt(w3.eth.get_block(block, True)["transactions"][0]["hash"])
    )
    assert_only_event(
        fresh.contract,
        receipt,
        "RoleGranted",
        role=DEFAULT_ADMIN_ROLE,
        account=accounts.other.address,
        sender=accounts.admin.address,
    )
    assert fresh.has_role(DEFAULT_ADMIN_ROLE, accounts.other.address)
    assert not fresh.has_role(DEFAULT_ADMIN_ROLE, accounts.admin.address)
    assert not fresh.paused()
    assert fresh.contract.functions.issuerTerms(accounts.other.address).call() == []


# --- anchor -----------------------------------------------------------------------------------


@pytest.mark.parametrize("leaf_count", [1, 1000, MAX_UINT32])
def test_anchor_records_issuer_time_and_leaf_count(
    w3: Web3, registry: Registry, accounts: Accounts, leaf_count: int
) -> None:
    root, receipt = anchor_root(registry, accounts.issuer, _root(leaf_count), leaf_count)
    timestamp = block_time(w3, receipt)
    assert_only_event(
        registry.contract,
        receipt,
        "RootAnchored",
        root=root,
        issuer=accounts.issuer.address,
        leafCount=leaf_count,
        timestamp=timestamp,
    )
    assert registry.contract.functions.anchorOf(root).call() == (
        accounts.issuer.address,
        timestamp,
        leaf_count,
    )
    record = registry.anchor_of(root)
    assert (record.issuer, record.anchored_at, record.leaf_count, record.anchored) == (
        accounts.issuer.address,
        timestamp,
        leaf_count,
        True,
    )


def test_anchor_packs_one_storage_slot(w3: Web3, registry: Registry, accounts: Accounts) -> None:
    """issuer (20 bytes) | anchoredAt (8) | leafCount (4), low to high, in one slot of `_anchors`.

    `_anchors` is slot 2: AccessControl's `_roles` is slot 0 and Pausable's `_paused` slot 1.
    """
    root, receipt = anchor_root(registry, accounts.issuer, _root(7), MAX_UINT32)
    timestamp = block_time(w3, receipt)
    slot = int.from_bytes(keccak256(root + (2).to_bytes(32, "big")), "big")
    word = int.from_bytes(w3.eth.get_storage_at(registry.address, slot), "big")
    expected = (MAX_UINT32 << 224) | (timestamp << 160) | int(accounts.issuer.address, 16)
    assert word == expected
    assert int.from_bytes(w3.eth.get_storage_at(registry.address, slot + 1), "big") == 0


def test_anchor_of_an_unanchored_root_is_all_zero(registry: Registry) -> None:
    assert registry.contract.functions.anchorOf(_root(1)).call() == (ZERO_ADDRESS, 0, 0)
    assert not registry.anchor_of(_root(1)).anchored


def test_anchor_rejects_zero_root(registry: Registry, accounts: Accounts) -> None:
    assert_reverts(
        registry.contract.functions.anchor(ZERO32, 1), "RegistryZeroRoot", by=accounts.issuer
    )


def test_anchor_rejects_zero_leaf_count(registry: Registry, accounts: Accounts) -> None:
    assert_reverts(
        registry.contract.functions.anchor(_root(1), 0), "RegistryZeroLeafCount", by=accounts.issuer
    )


def test_anchor_rejects_a_root_already_anchored_by_anyone(
    w3: Web3, registry: Registry, accounts: Accounts
) -> None:
    root, receipt = anchor_root(registry, accounts.issuer, _root(1), 3)
    fns = registry.contract.functions
    assert_reverts(fns.anchor(root, 3), "RegistryRootAlreadyAnchored", root, by=accounts.issuer)
    assert_reverts(fns.anchor(root, 9), "RegistryRootAlreadyAnchored", root, by=accounts.issuer)
    send(w3, accounts.admin, fns.grantRole(ISSUER_ROLE, accounts.issuer2.address))
    assert_reverts(fns.anchor(root, 3), "RegistryRootAlreadyAnchored", root, by=accounts.issuer2)
    assert fns.anchorOf(root).call() == (accounts.issuer.address, block_time(w3, receipt), 3)


@pytest.mark.parametrize("who", ["other", "admin", "revoker", "issuer2"])
def test_anchor_rejects_a_non_issuer(registry: Registry, accounts: Accounts, who: str) -> None:
    account = getattr(accounts, who)
    fns = registry.contract.functions
    error = ("AccessControlUnauthorizedAccount", account.address, ISSUER_ROLE)
    assert_reverts(fns.anchor(_root(1), 1), *error, by=account)
    # The role is checked before the arguments.
    assert_reverts(fns.anchor(ZERO32, 0), *error, by=account)


def test_anchor_rejects_while_paused(w3: Web3, registry: Registry, accounts: Accounts) -> None:
    fns = registry.contract.functions
    send(w3, accounts.admin, fns.pause())
    assert_reverts(fns.anchor(_root(1), 1), "EnforcedPause", by=accounts.issuer)
    # The role is checked before the pause.
    assert_reverts(
        fns.anchor(_root(1), 1),
        "AccessControlUnauthorizedAccount",
        accounts.other.address,
        ISSUER_ROLE,
        by=accounts.other,
    )
    send(w3, accounts.admin, fns.unpause())
    anchor_root(registry, accounts.issuer, _root(1), 1)


def test_anchor_gas_is_within_budget(w3: Web3, registry: Registry, accounts: Accounts) -> None:
    """The hard budget: one `anchor` costs at most 52,000 gas, whatever the leaf count."""
    figures = {}
    for i, leaf_count in enumerate([1, 1000, 65536, MAX_UINT32]):
        # No zero byte in the root: calldata costs the most (16 gas per non-zero byte).
        root = bytes(b or 0xFF for b in _root(100 + i))
        _, receipt = anchor_root(registry, accounts.issuer, root, leaf_count)
        figures[leaf_count] = int(receipt["gasUsed"])
    print()
    for leaf_count, gas in figures.items():
        print(f"anchor gasUsed, leafCount={leaf_count:>10}: {gas:>6} (budget {ANCHOR_GAS_BUDGET})")
    over = {n: g for n, g in figures.items() if g > ANCHOR_GAS_BUDGET}
    assert not over, f"anchor exceeds {ANCHOR_GAS_BUDGET} gas: {over}"


# --- verify and status ------------------------------------------------------------------------


def test_verify_accepts_every_real_proof_of_an_anchored_root(
    registry: Registry, anchored: tuple[Tree, dict[str, Any]]
) -> None:
    tree, _ = anchored
    for i, leaf in enumerate(tree.leaves):
        assert registry.contract.functions.verify(tree.root, tree.proof(i), leaf).call() is True


def test_verify_accepts_a_single_leaf_root_with_an_empty_proof(
    registry: Registry, accounts: Accounts
) -> None:
    tree = make_tree("single", 1)
    assert tree.root == tree.leaves[0]
    anchor_root(registry, accounts.issuer, tree.root, 1)
    assert registry.contract.functions.verify(tree.root, [], tree.leaves[0]).call() is True


def test_verify_rejects_an_unanchored_root(registry: Registry) -> None:
    tree = make_tree("unanchored", 4)
    assert (
        registry.contract.functions.verify(tree.root, tree.proof(0), tree.leaves[0]).call() is False
    )


def test_verify_rejects_a_wrong_proof_or_leaf(
    registry: Registry, anchored: tuple[Tree, dict[str, Any]]
) -> None:
    tree, _ = anchored
    verify = registry.contract.functions.verify
    proof = tree.proof(0)
    flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    assert verify(tree.root, flipped, tree.leaves[0]).call() is False
    assert verify(tree.root, tree.proof(1), tree.leaves[0]).call() is False  # another leaf's proof
    assert verify(tree.root, proof[:-1], tree.leaves[0]).call() is False  # truncated
    assert verify(tree.root, [*proof, proof[0]], tree.leaves[0]).call() is False  # trailing element
    assert verify(tree.root, proof, keccak256(b"not a leaf")).call() is False
    other = make_tree("other", 5)
    assert verify(tree.root, other.proof(0), other.leaves[0]).call() is False


def _status(registry: Registry, root: bytes, proof: list[bytes], leaf: bytes) -> dict[str, Any]:
    names = [
        o["name"]
        for o in registry.contract.get_function_by_name("status").abi["outputs"][0]["components"]
    ]
    return dict(
        zip(names, registry.contract.functions.status(root, proof, leaf).call(), strict=True)
    )


def test_status_of_an_unanchored_root(registry: Registry) -> None:
    tree = make_tree("unanchored", 3)
    assert _status(registry, tree.root, tree.proof(0), tree.leaves[0]) == {
        "included": True,
        "anchoredAt": 0,
        "issuer": ZERO_ADDRESS,
        "issuerName": "",
        "leafCount": 0,
        "leafRevokedAt": 0,
        "leafRevocationReason": 0,
        "rootRevokedAt": 0,
        "rootRevocationReason": 0,
        "issuerAuthorisedAtAnchor": False,
    }


def test_status_reports_every_field(
    w3: Web3, registry: Registry, accounts: Accounts, anchored: tuple[Tree, dict[str, Any]]
) -> None:
    tree, receipt = anchored
    anchored_at = block_time(w3, receipt)
    fresh = {
        "included": True,
        "anchoredAt": anchored_at,
        "issuer": accounts.issuer.address,
        "issuerName": ISSUER_NAME,
        "leafCount": 5,
        "leafRevokedAt": 0,
        "leafRevocationReason": 0,
        "rootRevokedAt": 0,
        "rootRevocationReason": 0,
        "issuerAuthorisedAtAnchor": True,
    }
    assert _status(registry, tree.root, tree.proof(0), tree.leaves[0]) == fresh
    assert _status(registry, tree.root, tree.proof(1), tree.leaves[0]) == {
        **fresh,
        "included": False,
    }

    fns = registry.contract.functions
    set_next_block_time(w3, 10)
    leaf_receipt = send(
        w3, accounts.revoker, fns.revokeDocument(tree.root, tree.proof(0), tree.leaves[0], 7)
    )
    leaf_revoked_at = block_time(w3, leaf_receipt)
    set_next_block_time(w3, 10)
    root_receipt = send(w3, accounts.revoker, fns.revokeRoot(tree.root, 65535))
    root_revoked_at = block_time(w3, root_receipt)
    assert anchored_at < leaf_revoked_at < root_revoked_at

    assert _status(registry, tree.root, tree.proof(0), tree.leaves[0]) == {
        **fresh,
        "leafRevokedAt": leaf_revoked_at,
        "leafRevocationReason": 7,
        "rootRevokedAt": root_revoked_at,
        "rootRevocationReason": 65535,
    }
    # Another document of the same root: revoked with the root only.
    assert _status(registry, tree.root, tree.proof(1), tree.leaves[1]) == {
        **fresh,
        "rootRevokedAt": root_revoked_at,
        "rootRevocationReason": 65535,
    }
    typed = registry.status(tree.root, tree.proof(0), tree.leaves[0])
    assert (
        typed.included,
        typed.issuer_name,
        typed.leaf_revocation_reason,
        typed.root_revoked_at,
    ) == (
        True,
        ISSUER_NAME,
        7,
        root_revoked_at,
    )
    # verify answers inclusion in an anchored root; revocation is read through status.
    assert fns.verify(tree.root, tree.proof(0), tree.leaves[0]).call() is True


def test_status_follows_the_issuer_name(
    w3: Web3, registry: Registry, accounts: Accounts, anchored: tuple[Tree, dict[str, Any]]
) -> None:
    tree, _ = anchored
    send(
        w3,
        accounts.admin,
        registry.contract.functions.setIssuerName(accounts.issuer.address, "Syndicat SIGI"),
    )
    assert (
        _status(registry, tree.root, tree.proof(2), tree.leaves[2])["issuerName"] == "Syndicat SIGI"
    )


# --- revokeDocument ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["revoker", "issuer"])
def test_revoke_document_by_a_revoker_or_the_roots_issuer(
    w3: Web3,
    registry: Registry,
    accounts: Accounts,
    anchored: tuple[Tree, dict[str, Any]],
    who: str,
) -> None:
    tree, _ = anchored
    account = getattr(accounts, who)
    fns = registry.contract.functions
    receipt = send(w3, account, fns.revokeDocument(tree.root, tree.proof(3), tree.leaves[3], 42))
    assert_only_event(
        registry.contract,
        receipt,
        "DocumentRevoked",
        root=tree.root,
        leaf=tree.leaves[3],
        revokedBy=account.address,
        reason=42,
    )
    assert fns.documentRevocation(tree.root, tree.leaves[3]).call() == (
        account.address,
        block_time(w3, receipt),
        42,
    )
    assert fns.documentRevocation(tree.root, tree.leaves[2]).call() == (ZERO_ADDRESS, 0, 0)
    assert fns.rootRevocation(tree.root).call() == (ZERO_ADDRESS, 0, 0)


@pytest.mark.parametrize("who", ["issuer2", "other", "admin"])
def test_revoke_document_rejects_anyone_else(
    w3: Web3,
    registry: Registry,
    accounts: Accounts,
    anchored: tuple[Tree, dict[str, Any]],
    who: str,
) -> None:
    tree, _ = anchored
    account = getattr(accounts, who)
    fns = registry.contract.functions
    send(w3, accounts.admin, fns.grantRole(ISSUER_ROLE, accounts.issuer2.address))
    call = fns.revokeDocument(tree.root, tree.proof(0), tree.leaves[0], 1)
    assert_reverts(call, "RegistryUnauthorizedRevoker", account.address, tree.root, by=account)


def test_revoke_document_rejects_a_leaf_not_in_the_root(
    registry: Registry, accounts: Accounts, anchored: tuple[Tree, dict[str, Any]]
) -> None:
    tree, _ = anchored
    fns = registry.contract.functions
    stranger = keccak256(b"stranger")
    for proof, leaf in [
        (tree.proof(0), stranger),
        (tree.proof(1), tree.leaves[0]),
        ([], tree.leaves[0]),
    ]:
        assert_reverts(
            fns.revokeDocument(tree.root, proof, leaf, 1),
            "RegistryLeafNotInRoot",
            tree.root,
            leaf,
            by=accounts.revoker,
        )


def test_revoke_document_rejects_an_unanchored_root(registry: Registry, accounts: Accounts) -> None:
    tree = make_tree("unanchored", 2)
    call = registry.contract.functions.revokeDocument(tree.root, tree.proof(0), tree.leaves[0], 1)
    for account in (accounts.revoker, accounts.issuer, accounts.other):
        assert_reverts(call, "RegistryRootNotAnchored", tree.root, by=account)


def test_revoke_document_twice(
    w3: Web3, registry: Registry, accounts: Accounts, anchored: tuple[Tree, dict[str, Any]]
) -> None:
    tree, _ = anchored
    fns = registry.contract.functions
    receipt = send(
        w3, accounts.issuer, fns.revokeDocument(tree.root, tree.proof(0), tree.leaves[0], 1)
    )
    for account in (accounts.issuer, accounts.revoker):
        call = fns.revokeDocument(tree.root, tree.proof(0), tree.leaves[0], 2)
        assert_reverts(call, "RegistryLeafAlreadyRevoked", tree.leaves[0], by=account)
    assert fns.documentRevocation(tree.root, tree.leaves[0]).call() == (
        accounts.issuer.address,
        block_time(w3, receipt),
        1,
    )


def test_revoke_document_rejects_while_paused(
    w3: Web3, registry: Registry, accounts: Accounts, anchored: tuple[Tree, dict[str, Any]]
) -> None:
    tree, _ = anchored
    fns = registry.contract.functions
    send(w3, accounts.admin, fns.pause())
    for account in (accounts.revoker, accounts.issuer, accounts.other):
        assert_reverts(
            fns.revokeDocument(tree.root, tree.proof(0), tree.leaves[0], 1),
            "EnforcedPause",
            by=account,
        )
    send(w3, accounts.admin, fns.unpause())
    send(w3, accounts.revoker, fns.revokeDocument(tree.root, tree.proof(0), tree.leaves[0], 1))


def test_an_issuer_cannot_revoke_another_issuers_document(
    w3: Web3, registry: Registry, accounts: Accounts, anchored: tuple[Tree, dict[str, Any]]
) -> None:
    tree, _ = anchored  # anchored by `issuer`
    fns = registry.contract.functions
    send(w3, accounts.admin, fns.grantRole(ISSUER_ROLE, accounts.issuer2.address))
    # A leaf is public: every proof bundle (QR code) carries its salt and digest.
    victim = tree.leaves[0]
    assert_reverts(
        fns.revokeDocument(tree.root, tree.proof(0), victim, 1),
        "RegistryUnauthorizedRevoker",
        accounts.issuer2.address,
        tree.root,
        by=accounts.issuer2,
    )
    # issuer2 anchors the victim's leaf as a one-leaf root of its own and revokes it there.
    anchor_root(registry, accounts.issuer2, victim, 1)
    send(w3, accounts.issuer2, fns.revokeDocument(victim, [], victim, 1))
    assert _status(registry, tree.root, tree.proof(0), victim)["leafRevokedAt"] == 0
    assert fns.documentRevocation(tree.root, victim).call() == (ZERO_ADDRESS, 0, 0)


def test_an_issuer_whose_role_was_revoked_cannot_revoke_its_own_anchors(
    w3: Web3, registry: Registry, accounts: Accounts, anchored: tuple[Tree, dict[str, Any]]
) -> None:
    tree, _ = anchored  # anchored by `issuer`
    fns = registry.contract.functions
    send(w3, accounts.admin, fns.revokeRole(ISSUER_ROLE, accounts.issuer.address))
    for call in (
        fns.revokeRoot(tree.root, 1),
        fns.revokeDocument(tree.root, tree.proof(0), tree.leaves[0], 1),
    ):
        assert_reverts(
            call,
            "RegistryUnauthorizedRevoker",
            accounts.issuer.address,
            tree.root,
            by=accounts.issuer,
        )
    send(w3, accounts.revoker, fns.revokeRoot(tree.root, 1))  # a revoker still can


# --- revokeRoot -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["revoker", "issuer"])
def test_revoke_root_by_a_revoker_or_the_roots_issuer(
    w3: Web3,
    registry: Registry,
    accounts: Accounts,
    anchored: tuple[Tree, dict[str, Any]],
    who: str,
) -> None:
    tree, _ = anchored
    account = getattr(accounts, who)
    fns = registry.contract.functions
    receipt = send(w3, account, fns.revokeRoot(tree.root, 3))
    assert_only_event(
        registry.contract,
        receipt,
        "RootRevoked",
        root=tree.root,
        revokedBy=account.address,
        reason=3,
    )
    assert fns.rootRevocation(tree.root).call() == (account.address, block_time(w3, receipt), 3)
    revocation = registry.root_revocation(tree.root)
    assert (revocation.revoked_by, revocation.reason) == (account.address, 3)


@pytest.mark.parametrize("who", ["issuer2", "other", "admin"])
def test_revoke_root_rejects_anyone_else(
    w3: Web3,
    registry: Registry,
    accounts: Accounts,
    anchored: tuple[Tree, dict[str, Any]],
    who: str,
) -> None:
    tree, _ = anchored
    account = getattr(accounts, who)
    send(
        w3,
        accounts.admin,
        registry.contract.functions.grantRole(ISSUER_ROLE, accounts.issuer2.address),
    )
    call = registry.contract.functions.revokeRoot(tree.root, 1)
    assert_reverts(call, "RegistryUnauthorizedRevoker", account.address, tree.root, by=account)


def test_revoke_root_rejects_an_unanchored_root(registry: Registry, accounts: Accounts) -> None:
    for account in (accounts.revoker, accounts.issuer, accounts.other):
        assert_reverts(
            registry.contract.functions.revokeRoot(_root(5), 1),
            "RegistryRootNotAnchored",
            _root(5),
            by=account,
        )


def test_revoke_root_twice(
    w3: Web3, registry: Registry, accounts: Accounts, anchored: tuple[Tree, dict[str, Any]]
) -> None:
    tree, _ = anchored
    fns = registry.contract.functions
    receipt = send(w3, accounts.revoker, fns.revokeRoot(tree.root, 1))
    for account in (accounts.issuer, accounts.revoker):
        assert_reverts(
            fns.revokeRoot(tree.root, 2), "RegistryRootAlreadyRevoked", tree.root, by=account
        )
    assert fns.rootRevocation(tree.root).call() == (
        accounts.revoker.address,
        block_time(w3, receipt),
        1,
    )


def test_revoke_root_rejects_while_paused(
    w3: Web3, registry: Registry, accounts: Accounts, anchored: tuple[Tree, dict[str, Any]]
) -> None:
    tree, _ = anchored
    fns = registry.contract.functions
    send(w3, accounts.admin, fns.pause())
    for account in (accounts.revoker, accounts.issuer, accounts.other):
        assert_reverts(fns.revokeRoot(tree.root, 1), "EnforcedPause", by=account)
    send(w3, accounts.admin, fns.unpause())
    send(w3, accounts.issuer, fns.revokeRoot(tree.root, 1))


# --- setIssuerName ----------------------------------------------------------------------------


def test_set_issuer_name_by_the_admin(w3: Web3, registry: Registry, accounts: Accounts) -> None:
    fns = registry.contract.functions
    assert fns.issuerName(accounts.issuer2.address).call() == ""
    name = "Syndicat intercommunal de gestion informatique (SIGI) — Lëtzebuerg"
    receipt = send(w3, accounts.admin, fns.setIssuerName(accounts.issuer2.address, name))
    assert_only_event(
        registry.contract, receipt, "IssuerNameSet", issuer=accounts.issuer2.address, name=name
    )
    assert fns.issuerName(accounts.issuer2.address).call() == name
    assert registry.issuer_name(accounts.issuer2.address) == name
    assert fns.issuerName(accounts.issuer.address).call() == ISSUER_NAME
    receipt = send(w3, accounts.admin, fns.setIssuerName(accounts.issuer2.address, ""))
    assert_only_event(
        registry.contract, receipt, "IssuerNameSet", issuer=accounts.issuer2.address, name=""
    )
    assert fns.issuerName(accounts.issuer2.address).call() == ""


@pytest.mark.parametrize("who", ["issuer", "revoker", "other"])
def test_set_issuer_name_rejects_a_non_admin(
    registry: Registry, accounts: Accounts, who: str
) -> None:
    account = getattr(accounts, who)
    call = registry.contract.functions.setIssuerName(account.address, "me")
    assert_reverts(
        call, "AccessControlUnauthorizedAccount", account.address, DEFAULT_ADMIN_ROLE, by=account
    )


# --- pause and unpause ------------------------------------------------------------------------


def test_pause_and_unpause_by_the_admin(w3: Web3, registry: Registry, accounts: Accounts) -> None:
    fns = registry.contract.functions
    receipt = send(w3, accounts.admin, fns.pause())
    assert_only_event(registry.contract, receipt, "Paused", account=accounts.admin.address)
    assert fns.paused().call() is True
    assert_reverts(fns.pause(), "EnforcedPause", by=accounts.admin)
    receipt = send(w3, accounts.admin, fns.unpause())
    assert_only_event(registry.contract, receipt, "Unpaused", account=accounts.admin.address)
    assert fns.paused().call() is False
    assert_reverts(fns.unpause(), "ExpectedPause", by=accounts.admin)


@pytest.mark.parametrize("who", ["issuer", "revoker", "other"])
def test_pause_and_unpause_reject_a_non_admin(
    w3: Web3, registry: Registry, accounts: Accounts, who: str
) -> None:
    account = getattr(accounts, who)
    fns = registry.contract.functions
    error = ("AccessControlUnauthorizedAccount", account.address, DEFAULT_ADMIN_ROLE)
    assert_reverts(fns.pause(), *error, by=account)
    send(w3, accounts.admin, fns.pause())
    assert_reverts(fns.unpause(), *error, by=account)


def test_reads_and_administration_work_while_paused(
    w3: Web3, registry: Registry, accounts: Accounts, anchored: tuple[Tree, dict[str, Any]]
) -> None:
    tree, receipt = anchored
    fns = registry.contract.functions
    send(w3, accounts.revoker, fns.revokeDocument(tree.root, tree.proof(0), tree.leaves[0], 5))
    send(w3, accounts.admin, fns.pause())
    anchored_at = block_time(w3, receipt)
    assert fns.version().call() == "1.0.0"
    assert fns.anchorOf(tree.root).call() == (accounts.issuer.address, anchored_at, 5)
    assert fns.verify(tree.root, tree.proof(1), tree.leaves[1]).call() is True
    status = _status(registry, tree.root, tree.proof(0), tree.leaves[0])
    assert (status["included"], status["issuerName"], status["leafRevocationReason"]) == (
        True,
        ISSUER_NAME,
        5,
    )
    assert fns.documentRevocation(tree.root, tree.leaves[0]).call()[0] == accounts.revoker.address
    assert fns.rootRevocation(tree.root).call() == (ZERO_ADDRESS, 0, 0)
    assert fns.issuerName(accounts.issuer.address).call() == ISSUER_NAME
    assert fns.wasIssuerAt(accounts.issuer.address, anchored_at).call() is True
    assert len(fns.issuerTerms(accounts.issuer.address).call()) == 1
    assert fns.hasRole(ISSUER_ROLE, accounts.issuer.address).call() is True
    # Administration is not paused either: an operator can name and revoke issuers meanwhile.
    send(w3, accounts.admin, fns.setIssuerName(accounts.issuer2.address, "X"))
    send(w3, accounts.admin, fns.revokeRole(ISSUER_ROLE, accounts.issuer.address))


# --- roles and issuer history -----------------------------------------------------------------


def test_grant_and_revoke_role_events(w3: Web3, registry: Registry, accounts: Accounts) -> None:
    fns = registry.contract.functions
    receipt = send(w3, accounts.admin, fns.grantRole(REVOKER_ROLE, accounts.other.address))
    assert_only_event(
        registry.contract,
        receipt,
        "RoleGranted",
        role=REVOKER_ROLE,
        account=accounts.other.address,
        sender=accounts.admin.address,
    )
    assert fns.hasRole(REVOKER_ROLE, accounts.other.address).call() is True
    # Granting a role already held changes nothing and emits nothing.
    receipt = send(w3, accounts.admin, fns.grantRole(REVOKER_ROLE, accounts.other.address))
    assert receipt["logs"] == []
    receipt = send(w3, accounts.admin, fns.revokeRole(REVOKER_ROLE, accounts.other.address))
    assert_only_event(
        registry.contract,
        receipt,
        "RoleRevoked",
        role=REVOKER_ROLE,
        account=accounts.other.address,
        sender=accounts.admin.address,
    )
    assert fns.hasRole(REVOKER_ROLE, accounts.other.address).call() is False
    receipt = send(w3, accounts.admin, fns.revokeRole(REVOKER_ROLE, accounts.other.address))
    assert receipt["logs"] == []
    assert fns.issuerTerms(accounts.other.address).call() == []  # only ISSUER_ROLE keeps terms


@pytest.mark.parametrize("fn", ["grantRole", "revokeRole"])
def test_role_administration_rejects_a_non_admin(
    registry: Registry, accounts: Accounts, fn: str
) -> None:
    call = getattr(registry.contract.functions, fn)(ISSUER_ROLE, accounts.other.address)
    for account in (accounts.issuer, accounts.revoker, accounts.other):
        assert_reverts(
            call,
            "AccessControlUnauthorizedAccount",
            account.address,
            DEFAULT_ADMIN_ROLE,
            by=account,
        )


def test_renounce_role_rejects_another_account(registry: Registry, accounts: Accounts) -> None:
    call = registry.contract.functions.renounceRole(ISSUER_ROLE, accounts.issuer.address)
    assert_reverts(call, "AccessControlBadConfirmation", by=accounts.admin)


def test_issuer_terms_and_was_issuer_at(w3: Web3, registry: Registry, accounts: Accounts) -> None:
    fns = registry.contract.functions
    issuer2 = accounts.issuer2
    terms = fns.issuerTerms(issuer2.address).call
    was = fns.wasIssuerAt
    assert terms() == []
    assert was(issuer2.address, int(w3.eth.get_block("latest")["timestamp"])).call() is False

    # First term: granted at t1.
    t1 = set_next_block_time(w3, 100)
    receipt = send(w3, accounts.admin, fns.grantRole(ISSUER_ROLE, issuer2.address))
    assert block_time(w3, receipt) == t1
    assert_only_event(
        registry.contract,
        receipt,
        "RoleGranted",
        role=ISSUER_ROLE,
        account=issuer2.address,
        sender=accounts.admin.address,
    )
    assert terms() == [(t1, 0)]
    assert was(issuer2.address, t1 - 1).call() is False  # before the first grant
    assert was(issuer2.address, 0).call() is False
    assert was(issuer2.address, t1).call() is True
    assert was(issuer2.address, 2**64 - 1).call() is True  # an open term has no end

    # An anchor during the term.
    t2 = set_next_block_time(w3, 100)
    tree = make_tree("history", 3)
    _, receipt = anchor_root(registry, issuer2, tree.root, 3)
    assert block_time(w3, receipt) == t2

    # Revoked at t3: the term closes, the earlier anchor stays authorised.
    t3 = set_next_block_time(w3, 100)
    receipt = send(w3, accounts.admin, fns.revokeRole(ISSUER_ROLE, issuer2.address))
    assert block_time(w3, receipt) == t3
    assert_only_event(
        registry.contract,
        receipt,
        "RoleRevoked",
        role=ISSUER_ROLE,
        account=issuer2.address,
        sender=accounts.admin.address,
    )
    assert terms() == [(t1, t3)]
    assert was(issuer2.address, t2).call() is True
    assert was(issuer2.address, t3).call() is True  # both ends included
    assert was(issuer2.address, t3 + 1).call() is False
    status = _status(registry, tree.root, tree.proof(0), tree.leaves[0])
    assert (status["anchoredAt"], status["issuer"], status["issuerAuthorisedAtAnchor"]) == (
        t2,
        issuer2.address,
        True,
    )
    assert_reverts(
        fns.anchor(_root(9), 1),
        "AccessControlUnauthorizedAccount",
        issuer2.address,
        ISSUER_ROLE,
        by=issuer2,
    )

    # Re-granted at t4: a second term; the gap between the terms is not covered.
    t4 = set_next_block_time(w3, 100)
    send(w3, accounts.admin, fns.grantRole(ISSUER_ROLE, issuer2.address))
    assert terms() == [(t1, t3), (t4, 0)]
    assert was(issuer2.address, t3 + 50).call() is False
    assert was(issuer2.address, t4 - 1).call() is False
    assert was(issuer2.address, t4).call() is True
    assert was(issuer2.address, t1).call() is True
    # Granting again while the term lasts opens no new term.
    send(w3, accounts.admin, fns.grantRole(ISSUER_ROLE, issuer2.address))
    assert terms() == [(t1, t3), (t4, 0)]

    t5 = set_next_block_time(w3, 100)
    later = make_tree("history-later", 2)
    anchor_root(registry, issuer2, later.root, 2)
    status = _status(registry, later.root, later.proof(1), later.leaves[1])
    assert (status["anchoredAt"], status["issuerAuthorisedAtAnchor"]) == (t5, True)
    assert (
        _status(registry, tree.root, tree.proof(1), tree.leaves[1])["issuerAuthorisedAtAnchor"]
        is True
    )


def test_renounce_role_closes_the_issuer_term(
    w3: Web3, registry: Registry, accounts: Accounts
) -> None:
    fns = registry.contract.functions
    ((since, until),) = fns.issuerTerms(accounts.issuer.address).call()
    assert until == 0 and since > 0
    t = set_next_block_time(w3, 100)
    receipt = send(w3, accounts.issuer, fns.renounceRole(ISSUER_ROLE, accounts.issuer.address))
    assert_only_event(
        registry.contract,
        receipt,
        "RoleRevoked",
        role=ISSUER_ROLE,
        account=accounts.issuer.address,
        sender=accounts.issuer.address,
    )
    assert fns.issuerTerms(accounts.issuer.address).call() == [(since, t)]
    assert fns.wasIssuerAt(accounts.issuer.address, t + 1).call() is False
