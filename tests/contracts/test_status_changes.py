"""Status changes on registry v2: revokeDocument and revokeRoot by a revoker or by a body's
status key, the history (`historyOf`), `status()` as a verifier reads it, and compromised keys:
their later anchors lose authorisation with no transaction per root, and their later status
changes can be annulled by the registrar."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from anchor.chain.records import DocumentState, StatusChange
from anchor.chain.registry import BodyStatus, ChangeKind, Kind, Names, Purpose
from anchor.merkle import MerkleTree, build_tree
from anchor.merkle.hashing import keccak256
from tests.support.registry_v2 import (
    ZERO32,
    ZERO_ADDRESS,
    Body,
    World,
    assert_logs,
    assert_reverts,
    latest_time,
    logs_of,
    mine,
    next_time,
    root_of,
    send,
)

pytestmark = pytest.mark.chain

NONE = StatusChange(ChangeKind.NONE, 0, 0, Web3.to_checksum_address(ZERO_ADDRESS), False)
IN_FORCE = DocumentState()


def revoked(change: StatusChange, changes: int = 1) -> DocumentState:
    """The state of a document whose last change that counts is the revocation ``change``."""
    return DocumentState(
        ChangeKind.REVOKED, change.reason, change.at, change.actor, changes=changes
    )


def make_tree(tag: str, size: int) -> MerkleTree:
    """A tree of ``size`` (salt, digest) pairs."""
    return build_tree(
        [
            (keccak256(f"salt-{tag}-{i}".encode()), keccak256(f"doc-{tag}-{i}".encode()))
            for i in range(size)
        ]
    )


def anchored_tree(env: World, body: Body, tag: str, size: int = 5) -> MerkleTree:
    tree = make_tree(tag, size)
    env.anchor(body.anchoring, tree.root, size)
    return tree


def revoke_doc(
    env: World, actor: LocalAccount, body: Body, tree: MerkleTree, i: int, reason: int = 1
) -> dict[str, Any]:
    return send(
        env.w3,
        actor,
        env.fns.revokeDocument(body.id, tree.root, tree.proof(i), tree.leaf(i), reason),
    )


def changed(body: Body, root: bytes, leaf: bytes, index: int, reason: int, actor: str) -> Any:
    return (
        "StatusChanged",
        {
            "bodyId": body.id,
            "root": root,
            "leaf": leaf,
            "index": index,
            "kind": ChangeKind.REVOKED,
            "reason": reason,
            "actor": actor,
        },
    )


@pytest.mark.parametrize("who", ["revoker", "status key"])
def test_revoke_document(env: World, who: str) -> None:
    body = env.bodies[0]
    actor = env.revoker if who == "revoker" else body.status
    tree = anchored_tree(env, body, "revoke-doc")
    t = next_time(env.w3, 9)
    receipt = revoke_doc(env, actor, body, tree, 3, reason=42)
    assert_logs(env.contract, receipt, changed(body, tree.root, tree.leaf(3), 0, 42, actor.address))
    entry = StatusChange(ChangeKind.REVOKED, 42, t, actor.address, False)
    assert env.registry.history_of(body.id, tree.root, tree.leaf(3)) == [entry]
    assert env.registry.history_of(body.id, tree.root, tree.leaf(2)) == []
    assert env.registry.history_of(body.id, tree.root) == []
    s = env.registry.status(body.anchoring.address, tree.root, tree.proof(3), tree.leaf(3))
    assert (s.included, s.document, s.root_status) == (True, revoked(entry), NONE)
    assert not s.document.in_force
    other = env.registry.status(body.anchoring.address, tree.root, tree.proof(2), tree.leaf(2))
    assert (other.document, other.root_status) == (IN_FORCE, NONE)


@pytest.mark.parametrize("who", ["revoker", "status key"])
def test_revoke_root(env: World, who: str) -> None:
    body = env.bodies[1]
    actor = env.revoker if who == "revoker" else body.status
    tree = anchored_tree(env, body, "revoke-root")
    t = next_time(env.w3, 9)
    receipt = env.revoke_root(actor, body.id, tree.root, 65535)
    assert_logs(env.contract, receipt, changed(body, tree.root, ZERO32, 0, 65535, actor.address))
    entry = StatusChange(ChangeKind.REVOKED, 65535, t, actor.address, False)
    assert env.registry.history_of(body.id, tree.root, ZERO32) == [entry]
    for i in range(5):
        s = env.registry.status(body.anchoring.address, tree.root, tree.proof(i), tree.leaf(i))
        assert (s.document, s.root_status) == (IN_FORCE, entry)


def test_revocation_rejections(env: World) -> None:
    body, other = env.bodies[0], env.bodies[1]
    tree = anchored_tree(env, body, "rejections")
    fns = env.fns
    by = env.revoker.address
    # A root only another body anchored is not anchored for this body.
    for actor in (env.revoker, other.status):
        assert_reverts(
            fns.revokeRoot(other.id, tree.root, 1),
            actor.address,
            "RegistryRootNotAnchored",
            other.id,
            tree.root,
        )
        assert_reverts(
            fns.revokeDocument(other.id, tree.root, tree.proof(0), tree.leaf(0), 1),
            actor.address,
            "RegistryRootNotAnchored",
            other.id,
            tree.root,
        )
    stranger = keccak256(b"stranger")
    for proof, leaf in (
        (tree.proof(0), stranger),
        (tree.proof(1), tree.leaf(0)),
        (tree.proof(0)[:-1], tree.leaf(0)),
        ([*tree.proof(0), tree.leaf(1)], tree.leaf(0)),
        ([], tree.leaf(0)),
        ([], ZERO32),
    ):
        assert_reverts(
            fns.revokeDocument(body.id, tree.root, proof, leaf, 1),
            by,
            "RegistryLeafNotInRoot",
            tree.root,
            leaf,
        )
    revoke_doc(env, body.status, body, tree, 0)
    env.revoke_root(env.revoker, body.id, tree.root)
    for actor in (env.revoker, body.status):
        assert_reverts(
            fns.revokeDocument(body.id, tree.root, tree.proof(0), tree.leaf(0), 2),
            actor.address,
            "RegistryAlreadyRevoked",
            body.id,
            tree.root,
            tree.leaf(0),
        )
        assert_reverts(
            fns.revokeRoot(body.id, tree.root, 2),
            actor.address,
            "RegistryAlreadyRevoked",
            body.id,
            tree.root,
            ZERO32,
        )


def _unauthorised_actors(env: World) -> list[tuple[str, LocalAccount]]:
    body, other = env.bodies[0], env.bodies[1]
    return [
        ("the body's own anchoring key", body.anchoring),
        ("another body's status key", other.status),
        ("another body's anchoring key", other.anchoring),
        ("the admin", env.admin),
        ("the registrar", env.registrar),
        ("the pauser", env.pauser),
        ("the relayer", env.relayer),
        ("a stranger", env.other),
    ]


def test_only_a_revoker_or_the_bodys_status_key_may_revoke(env: World) -> None:
    body = env.bodies[0]
    tree = anchored_tree(env, body, "actors")
    fns = env.fns
    for label, actor in _unauthorised_actors(env):
        for call in (
            fns.revokeRoot(body.id, tree.root, 1),
            fns.revokeDocument(body.id, tree.root, tree.proof(0), tree.leaf(0), 1),
            # The caller is checked first: even for a root never anchored.
            fns.revokeRoot(body.id, root_of("never"), 1),
        ):
            try:
                assert_reverts(
                    call, actor.address, "RegistryUnauthorizedActor", actor.address, body.id
                )
            except AssertionError as e:
                raise AssertionError(f"{label}: {e}") from e


def test_a_status_key_not_valid_now_cannot_revoke(env: World) -> None:
    body = env.bodies[0]
    tree = anchored_tree(env, body, "invalid-status-keys")
    fns = env.fns
    retired = env.add_key(body.id, Purpose.STATUS, "retired-status")
    env.by_registrar(fns.retireKey(retired.address))
    future = env.add_key(body.id, Purpose.STATUS, "future-status", latest_time(env.w3) + 999, 0)
    compromised = env.add_key(body.id, Purpose.STATUS, "compromised-status")
    mine(env.w3, 5)
    env.by_registrar(fns.setKeyCompromised(compromised.address, latest_time(env.w3)))
    for key in (retired, future, compromised):
        assert_reverts(
            fns.revokeRoot(body.id, tree.root, 1),
            key.address,
            "RegistryUnauthorizedActor",
            key.address,
            body.id,
        )
    env.by_registrar(fns.setBodyStatus(body.id, BodyStatus.SUSPENDED))
    assert_reverts(
        fns.revokeRoot(body.id, tree.root, 1),
        body.status.address,
        "RegistryUnauthorizedActor",
        body.status.address,
        body.id,
    )
    env.by_registrar(fns.setBodyStatus(body.id, BodyStatus.ACTIVE))
    env.revoke_root(body.status, body.id, tree.root)


def test_status_of_every_field(env: World) -> None:
    body = env.bodies[2]
    tree = make_tree("fields", 4)
    t = next_time(env.w3, 3)
    env.anchor(body.anchoring, tree.root, 4)
    s = env.registry.status(body.anchoring.address, tree.root, tree.proof(1), tree.leaf(1))
    assert s.included and s.anchored and not s.renamed
    assert (
        s.anchored_at,
        s.leaf_count,
        s.key,
        s.authorised,
        s.body_id,
        s.kind,
        s.body_status,
        s.code,
        s.name_at_anchor,
        s.name_now,
        s.document,
        s.root_status,
    ) == (
        t,
        4,
        body.anchoring.address,
        True,
        body.id,
        Kind.SOCIAL_OFFICE,
        BodyStatus.ACTIVE,
        body.code,
        body.names,
        body.names,
        IN_FORCE,
        NONE,
    )
    # A wrong proof: not included, the rest the same.
    wrong = env.registry.status(body.anchoring.address, tree.root, tree.proof(0), tree.leaf(1))
    assert not wrong.included and wrong.anchored_at == t and wrong.authorised
    # The body is resolved from the key given; the key returned is the anchor's.
    by_status_key = env.registry.status(body.status.address, tree.root, tree.proof(1), tree.leaf(1))
    assert (by_status_key.body_id, by_status_key.key) == (body.id, body.anchoring.address)
    # Another body's key: that body never anchored the root.
    elsewhere = env.bodies[0]
    s = env.registry.status(elsewhere.anchoring.address, tree.root, tree.proof(1), tree.leaf(1))
    assert (s.body_id, s.included, s.anchored_at, s.authorised, s.key, s.name_now) == (
        elsewhere.id,
        False,
        0,
        False,
        ZERO_ADDRESS,
        elsewhere.names,
    )
    # An address that is no key: nothing at all.
    s = env.registry.status(env.other.address, tree.root, tree.proof(1), tree.leaf(1))
    assert (s.body_id, s.included, s.authorised, s.code, s.name_now) == (
        0,
        False,
        False,
        "",
        Names(""),
    )


def test_a_compromise_withdraws_authorisation_from_later_anchors_only(env: World) -> None:
    body = env.bodies[0]
    key = body.anchoring
    times = []
    roots = [root_of(f"compromise-{i}") for i in range(3)]
    for root in roots:
        times.append(next_time(env.w3, 10))
        env.anchor(key, root, 1)
    for root in roots:
        assert env.registry.status(key.address, root, [], root).authorised
    next_time(env.w3, 10)
    receipt = env.by_registrar(env.fns.setKeyCompromised(key.address, times[1]))
    # One transaction, whatever the number of roots: two events, no per-root write.
    assert [name for name, _ in logs_of(env.contract, receipt)] == ["KeyCompromised", "KeyRetired"]
    got = [env.registry.status(key.address, r, [], r).authorised for r in roots]
    assert got == [True, False, False]
    assert [env.fns.isAuthorised(body.id, r).call() for r in roots] == [True, False, False]
    # The records themselves are unchanged.
    for root, t in zip(roots, times, strict=True):
        assert env.fns.anchorOf(body.id, root).call() == (key.address, t, 1)
    # Moving the compromise earlier withdraws more.
    env.by_registrar(env.fns.setKeyCompromised(key.address, times[0]))
    assert [env.fns.isAuthorised(body.id, r).call() for r in roots] == [False, False, False]


def test_an_anchoring_key_can_never_revoke_even_its_own_roots(env: World) -> None:
    body = env.bodies[1]
    tree = anchored_tree(env, body, "own")
    for call in (
        env.fns.revokeRoot(body.id, tree.root, 1),
        env.fns.revokeDocument(body.id, tree.root, tree.proof(0), tree.leaf(0), 1),
    ):
        assert_reverts(
            call,
            body.anchoring.address,
            "RegistryUnauthorizedActor",
            body.anchoring.address,
            body.id,
        )


def test_annul_the_changes_of_a_compromised_status_key(env: World) -> None:
    body = env.bodies[0]
    key = body.status
    tree = anchored_tree(env, body, "annul")
    fns = env.fns
    t_before = next_time(env.w3, 10)
    revoke_doc(env, key, body, tree, 0, reason=1)  # before the compromise
    t_since = next_time(env.w3, 10)
    revoke_doc(env, key, body, tree, 1, reason=2)  # at the compromise time
    t_after = next_time(env.w3, 10)
    env.revoke_root(key, body.id, tree.root, 3)  # after it
    next_time(env.w3, 10)
    env.by_registrar(fns.setKeyCompromised(key.address, t_since))
    by = env.registrar.address

    # Made before the compromise time: not annullable.
    assert_reverts(
        fns.annulStatusChange(body.id, tree.root, tree.leaf(0), 0), by, "RegistryNotAnnullable", 0
    )
    # At or after it: annulled, the entry stays, marked.
    receipt = env.by_registrar(fns.annulStatusChange(body.id, tree.root, tree.leaf(1), 0))
    assert_logs(
        env.contract,
        receipt,
        (
            "StatusChangeAnnulled",
            {"bodyId": body.id, "root": tree.root, "leaf": tree.leaf(1), "index": 0},
        ),
    )
    receipt = env.by_registrar(fns.annulStatusChange(body.id, tree.root, ZERO32, 0))
    assert_logs(
        env.contract,
        receipt,
        (
            "StatusChangeAnnulled",
            {"bodyId": body.id, "root": tree.root, "leaf": ZERO32, "index": 0},
        ),
    )
    assert env.registry.history_of(body.id, tree.root, tree.leaf(1)) == [
        StatusChange(ChangeKind.REVOKED, 2, t_since, key.address, True)
    ]
    assert env.registry.history_of(body.id, tree.root) == [
        StatusChange(ChangeKind.REVOKED, 3, t_after, key.address, True)
    ]
    s = env.registry.status(body.anchoring.address, tree.root, tree.proof(1), tree.leaf(1))
    assert (s.document, s.root_status) == (DocumentState(changes=1), NONE)
    s = env.registry.status(body.anchoring.address, tree.root, tree.proof(0), tree.leaf(0))
    assert s.document == revoked(StatusChange(ChangeKind.REVOKED, 1, t_before, key.address, False))

    # Twice, or an index past the history: refused.
    assert_reverts(
        fns.annulStatusChange(body.id, tree.root, tree.leaf(1), 0), by, "RegistryNotAnnullable", 0
    )
    assert_reverts(
        fns.annulStatusChange(body.id, tree.root, tree.leaf(1), 1), by, "RegistryNoSuchChange", 1
    )
    assert_reverts(
        fns.annulStatusChange(body.id, tree.root, tree.leaf(4), 0), by, "RegistryNoSuchChange", 0
    )
    # The compromised key cannot act again; a revoker revokes the document for real.
    assert_reverts(
        fns.revokeDocument(body.id, tree.root, tree.proof(1), tree.leaf(1), 9),
        key.address,
        "RegistryUnauthorizedActor",
        key.address,
        body.id,
    )
    t_again = next_time(env.w3, 10)
    receipt = revoke_doc(env, env.revoker, body, tree, 1, reason=9)
    assert_logs(
        env.contract, receipt, changed(body, tree.root, tree.leaf(1), 1, 9, env.revoker.address)
    )
    history = env.registry.history_of(body.id, tree.root, tree.leaf(1))
    assert [c.annulled for c in history] == [True, False]
    s = env.registry.status(body.anchoring.address, tree.root, tree.proof(1), tree.leaf(1))
    assert s.document == revoked(
        StatusChange(ChangeKind.REVOKED, 9, t_again, env.revoker.address, False), changes=2
    )
    # A revoker's change is never annullable.
    assert_reverts(
        fns.annulStatusChange(body.id, tree.root, tree.leaf(1), 1), by, "RegistryNotAnnullable", 1
    )
    # And the root, its revocation annulled, can be revoked again.
    env.revoke_root(env.revoker, body.id, tree.root, 4)
    assert len(env.registry.history_of(body.id, tree.root)) == 2


def test_the_changes_of_a_key_never_compromised_are_not_annullable(env: World) -> None:
    body = env.bodies[2]
    tree = anchored_tree(env, body, "honest")
    revoke_doc(env, body.status, body, tree, 2)
    assert_reverts(
        env.fns.annulStatusChange(body.id, tree.root, tree.leaf(2), 0),
        env.registrar.address,
        "RegistryNotAnnullable",
        0,
    )
    # Retired is not compromised.
    env.by_registrar(env.fns.retireKey(body.status.address))
    assert_reverts(
        env.fns.annulStatusChange(body.id, tree.root, tree.leaf(2), 0),
        env.registrar.address,
        "RegistryNotAnnullable",
        0,
    )
