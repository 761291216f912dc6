"""A document's life on registry 2.1: suspend, lift, revoke, supersede, extend; every transition
the table of docs/registry.md allows, every refusal, the fold (`documentState`, and the same
fold in Python), the history of a whole root in one call (`rootHistory`), and the attacker's
side: another body's status key, an anchoring key, a successor of another body, a change after
an annulment."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anchor.chain.records import (
    ChangeKind,
    DocumentState,
    RootEntry,
    StatusChange,
    allowed,
)
from anchor.merkle import MerkleTree, build_tree
from anchor.merkle.hashing import keccak256
from tests.support.registry_v2 import (
    ZERO32,
    Body,
    World,
    assert_logs,
    assert_reverts,
    latest_time,
    next_time,
    revert_of,
    send,
)

pytestmark = pytest.mark.chain

DAY = 86400
K = ChangeKind


def anchored(env: World, body: Body, tag: str, size: int = 4) -> MerkleTree:
    """A tree of ``size`` documents anchored by ``body``."""
    tree = build_tree(
        [
            (keccak256(f"s-{tag}-{i}".encode()), keccak256(f"d-{tag}-{i}".encode()))
            for i in range(size)
        ]
    )
    env.anchor(body.anchoring, tree.root, size)
    return tree


def day_after(env: World, days: int) -> int:
    """00:00 UTC of the day ``days`` after today's (chain time)."""
    return (latest_time(env.w3) // DAY + days) * DAY


class Doc:
    """One document (leaf ``i`` of ``tree`` under ``body``) and the calls that change it."""

    def __init__(self, env: World, body: Body, tree: MerkleTree, i: int) -> None:
        self.env, self.body, self.tree, self.i = env, body, tree, i
        self.args = (body.id, tree.root, tree.proof(i), tree.leaf(i))

    def call(self, change: K, arg: Any = None) -> Any:
        fns = self.env.fns
        if change == K.SUSPENDED:
            return fns.suspendDocument(*self.args, 1 if arg is None else arg)
        if change == K.LIFTED:
            return fns.liftSuspension(*self.args)
        if change == K.REVOKED:
            return fns.revokeDocument(*self.args, 5 if arg is None else arg)
        if change == K.SUPERSEDED:
            successor: Doc = arg
            return fns.supersedeDocument(
                *self.args, successor.tree.root, successor.tree.proof(successor.i),
                successor.tree.leaf(successor.i),
            )  # fmt: skip
        if change == K.EXTENDED:
            return fns.extendValidity(*self.args, day_after(self.env, 30) if arg is None else arg)
        raise AssertionError(change)

    def do(self, change: K, arg: Any = None, by: LocalAccount | None = None) -> dict[str, Any]:
        return send(self.env.w3, by or self.body.status, self.call(change, arg))

    def state(self) -> DocumentState:
        return self.env.registry.document_state(
            self.body.id, self.tree.root, self.tree.leaf(self.i)
        )

    def history(self) -> list[StatusChange]:
        return self.env.registry.history_of(self.body.id, self.tree.root, self.tree.leaf(self.i))


def test_suspend_lift_extend_supersede(env: World) -> None:
    body = env.bodies[0]
    tree = anchored(env, body, "life")
    doc, successor = Doc(env, body, tree, 1), Doc(env, body, anchored(env, body, "next", 2), 0)
    assert doc.state() == DocumentState()

    t1 = next_time(env.w3, 5)
    receipt = doc.do(K.SUSPENDED, 1)
    assert_logs(env.contract, receipt, ("StatusChanged", {
        "bodyId": body.id, "root": tree.root, "leaf": tree.leaf(1), "index": 0,
        "kind": K.SUSPENDED, "reason": 1, "actor": body.status.address}))  # fmt: skip
    assert doc.state() == DocumentState(K.SUSPENDED, 1, t1, body.status.address, changes=1)

    until = day_after(env, 400)
    doc.do(K.EXTENDED, until, by=env.revoker)  # a suspended document may be extended
    assert doc.state() == DocumentState(K.SUSPENDED, 1, t1, body.status.address, until, changes=2)

    doc.do(K.LIFTED)
    assert doc.state() == DocumentState(valid_until=until, changes=3)

    t4 = next_time(env.w3, 5)
    doc.do(K.SUPERSEDED, successor)
    state = doc.state()
    assert (state.state, state.since, state.successor_root, state.successor_leaf) == (
        K.SUPERSEDED, t4, successor.tree.root, successor.tree.leaf(0))  # fmt: skip
    assert [c.kind for c in doc.history()] == [K.SUSPENDED, K.EXTENDED, K.LIFTED, K.SUPERSEDED]
    assert doc.history()[1].until == until
    # The Python fold reads the history exactly as the contract folds it.
    assert DocumentState.fold(doc.history()) == state
    # status() carries the same state, for the verifier's one call.
    s = env.registry.status(body.anchoring.address, tree.root, tree.proof(1), tree.leaf(1))
    assert s.document == state and s.included
    # Superseded is final.
    for change, arg in ((K.SUSPENDED, None), (K.REVOKED, None), (K.EXTENDED, None),
                        (K.LIFTED, None), (K.SUPERSEDED, successor)):  # fmt: skip
        assert_reverts(doc.call(change, arg), env.revoker.address, "RegistryBadTransition",
                       body.id, tree.root, tree.leaf(1), K.SUPERSEDED, change)  # fmt: skip
    # The successor itself is untouched.
    assert successor.state() == DocumentState()


def test_refusals_that_make_no_sense(env: World) -> None:
    body = env.bodies[1]
    tree = anchored(env, body, "refuse")
    doc = Doc(env, body, tree, 0)
    by = body.status.address
    # Lifting a suspension that is not there.
    assert_reverts(doc.call(K.LIFTED), by, "RegistryBadTransition",
                   body.id, tree.root, tree.leaf(0), K.NONE, K.LIFTED)  # fmt: skip
    doc.do(K.SUSPENDED)
    # Suspending twice.
    assert_reverts(doc.call(K.SUSPENDED), by, "RegistryBadTransition",
                   body.id, tree.root, tree.leaf(0), K.SUSPENDED, K.SUSPENDED)  # fmt: skip
    # Extensions: not a whole day, a day past, not later than the last one.
    for bad in (day_after(env, 10) + 1, day_after(env, -1), 0):
        assert_reverts(doc.call(K.EXTENDED, bad), by, "RegistryBadValidityEnd", bad)
    doc.do(K.EXTENDED, day_after(env, 0))  # today is still valid
    later = day_after(env, 20)
    doc.do(K.EXTENDED, later)
    assert_reverts(doc.call(K.EXTENDED, later), by, "RegistryBadValidityEnd", later)
    assert_reverts(doc.call(K.EXTENDED, day_after(env, 5)), by, "RegistryBadValidityEnd",
                   day_after(env, 5))  # fmt: skip
    # Superseding by a document that does not exist, by itself, by another body's document.
    ghost = build_tree([(keccak256(b"g-salt"), keccak256(b"g-doc"))])
    fns = env.fns
    for root, proof, leaf in (
        (ghost.root, ghost.proof(0), ghost.leaf(0)),  # never anchored
        (tree.root, tree.proof(0), tree.leaf(0)),  # itself
        (tree.root, tree.proof(1), keccak256(b"not in the tree")),  # not in the root
        (tree.root, [], ZERO32),
    ):
        assert_reverts(
            fns.supersedeDocument(*doc.args, root, proof, leaf), by,
            "RegistryUnknownSuccessor", root, leaf,
        )  # fmt: skip
    other = env.bodies[2]
    elsewhere = anchored(env, other, "elsewhere", 2)
    assert_reverts(
        fns.supersedeDocument(*doc.args, elsewhere.root, elsewhere.proof(0), elsewhere.leaf(0)),
        by, "RegistryUnknownSuccessor", elsewhere.root, elsewhere.leaf(0),
    )  # fmt: skip
    # Revoked is final: extending (or anything) is refused with the revocation's error.
    # The last day a uint64 can name is a valid end (no overflow on the way).
    far = Doc(env, body, tree, 3)
    far.do(K.EXTENDED, (2**64 - 1) // DAY * DAY)
    assert far.state().valid_until == (2**64 - 1) // DAY * DAY
    doc.do(K.REVOKED, 5)
    for change in (K.EXTENDED, K.LIFTED, K.SUSPENDED, K.REVOKED):
        assert_reverts(doc.call(change), by, "RegistryAlreadyRevoked",
                       body.id, tree.root, tree.leaf(0))  # fmt: skip
    # A document under a revoked root cannot change either.
    sibling = Doc(env, body, tree, 2)
    env.revoke_root(env.revoker, body.id, tree.root, 2)
    assert_reverts(sibling.call(K.SUSPENDED), by, "RegistryAlreadyRevoked",
                   body.id, tree.root, tree.leaf(2))  # fmt: skip
    assert_reverts(fns.revokeRoot(body.id, tree.root, 3), by, "RegistryAlreadyRevoked",
                   body.id, tree.root, ZERO32)  # fmt: skip


def test_who_may_change_a_documents_life(env: World) -> None:
    """A revoker or the body's own valid status key; never its anchoring key, another body's
    status key, the registrar or a stranger."""
    body, other = env.bodies[0], env.bodies[1]
    doc = Doc(env, body, anchored(env, body, "who"), 3)
    successor = Doc(env, body, anchored(env, body, "who-next", 2), 1)
    for actor in (body.anchoring, other.status, other.anchoring, env.registrar, env.other):
        for change, arg in ((K.SUSPENDED, None), (K.EXTENDED, None), (K.SUPERSEDED, successor),
                            (K.REVOKED, None)):  # fmt: skip
            assert_reverts(doc.call(change, arg), actor.address, "RegistryUnauthorizedActor",
                           actor.address, body.id)  # fmt: skip
    assert doc.state() == DocumentState()
    doc.do(K.SUSPENDED, 2, by=env.revoker)
    doc.do(K.LIFTED, by=body.status)
    assert doc.state().in_force


def test_root_history_in_one_call(env: World) -> None:
    body = env.bodies[2]
    tree = anchored(env, body, "root-history", 6)
    docs = [Doc(env, body, tree, i) for i in range(6)]
    successor = Doc(env, body, anchored(env, body, "root-history-next", 1), 0)
    docs[4].do(K.SUSPENDED, 1)
    docs[1].do(K.REVOKED, 3)
    docs[4].do(K.LIFTED)
    docs[0].do(K.EXTENDED, day_after(env, 90))
    docs[5].do(K.SUPERSEDED, successor)
    entries = env.registry.root_history(body.id, tree.root)
    assert [(e.leaf, e.index, e.change.kind) for e in entries] == [
        (tree.leaf(4), 0, K.SUSPENDED),
        (tree.leaf(1), 0, K.REVOKED),
        (tree.leaf(4), 1, K.LIFTED),
        (tree.leaf(0), 0, K.EXTENDED),
        (tree.leaf(5), 0, K.SUPERSEDED),
    ]
    # Each entry is the very change the document's own history holds.
    for e in entries:
        assert isinstance(e, RootEntry)
        assert env.registry.history_of(body.id, tree.root, e.leaf)[e.index] == e.change
    # Folding the root's entries leaf by leaf gives each document's state.
    for doc in docs:
        mine = [e.change for e in entries if e.leaf == tree.leaf(doc.i)]
        assert DocumentState.fold(mine) == doc.state()
    # Another body's root history and a root never changed are empty.
    assert env.registry.root_history(env.bodies[0].id, tree.root) == []
    assert env.registry.root_history(body.id, successor.tree.root) == []


def test_an_annulled_suspension_no_longer_counts_and_a_later_lift_is_skipped(env: World) -> None:
    """A compromised status key suspends a document; a legitimate lift follows; the registrar
    annuls the suspension: the fold skips both (the lift has no premise left)."""
    body = env.bodies[0]
    doc = Doc(env, body, anchored(env, body, "annul-life"), 0)
    stolen = body.status
    t = next_time(env.w3, 5)
    doc.do(K.SUSPENDED, 1, by=stolen)
    doc.do(K.LIFTED, by=env.revoker)
    doc.do(K.SUSPENDED, 2, by=env.revoker)
    env.by_registrar(env.fns.setKeyCompromised(stolen.address, t))
    env.by_registrar(env.fns.annulStatusChange(body.id, doc.tree.root, doc.tree.leaf(0), 0))
    state = doc.state()
    # Suspended (annulled) skipped; lift skipped (nothing to lift); the revoker's suspension holds.
    assert (state.state, state.reason, state.actor, state.changes) == (
        K.SUSPENDED, 2, env.revoker.address, 3)  # fmt: skip
    assert DocumentState.fold(doc.history()) == state


_TREES = count()
CHANGES = [K.SUSPENDED, K.LIFTED, K.REVOKED, K.SUPERSEDED, K.EXTENDED]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(CHANGES), min_size=1, max_size=6))
def test_any_sequence_lands_exactly_when_the_table_allows_it(env: World, changes: list[K]) -> None:
    """For a random sequence of changes, each lands on chain if and only if the Python table
    allows it from the state reached, and the contract's fold equals the Python one."""
    body = env.bodies[1]
    tree = anchored(env, body, f"prop-{next(_TREES)}")
    doc = Doc(env, body, tree, 0)
    successor = Doc(env, body, tree, 1)
    extension = day_after(env, 10)
    for change in changes:
        before = doc.state()
        arg = successor if change == K.SUPERSEDED else None
        if change == K.EXTENDED:
            extension += DAY
            arg = extension
        call = doc.call(change, arg)
        if allowed(before.state, change):
            doc.do(change, arg)
        else:
            name, _ = revert_of(call, body.status.address)
            assert name in ("RegistryBadTransition", "RegistryAlreadyRevoked")
    assert doc.state() == DocumentState.fold(doc.history())
