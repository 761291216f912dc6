"""Pause on registry v2 stops anchoring only: direct and relayed anchors refuse with
`EnforcedPause`, while revocations (by a revoker and by a body's status key), annulments, the
registrar's work and every view go on."""

from __future__ import annotations

import pytest

from anchor.chain.registry import Kind, Purpose
from anchor.merkle import build_tree
from anchor.merkle.hashing import keccak256
from tests.support.registry_v2 import (
    World,
    assert_logs,
    assert_reverts,
    next_time,
    root_of,
    send,
)

pytestmark = pytest.mark.chain


def test_pause_and_unpause_by_the_pauser(env: World) -> None:
    fns = env.fns
    receipt = send(env.w3, env.pauser, fns.pause())
    assert_logs(env.contract, receipt, ("Paused", {"account": env.pauser.address}))
    assert env.registry.paused()
    assert_reverts(fns.pause(), env.pauser.address, "EnforcedPause")
    receipt = send(env.w3, env.pauser, fns.unpause())
    assert_logs(env.contract, receipt, ("Unpaused", {"account": env.pauser.address}))
    assert not env.registry.paused()
    assert_reverts(fns.unpause(), env.pauser.address, "ExpectedPause")


def test_pause_stops_anchoring_only(env: World) -> None:
    body = env.bodies[0]
    fns = env.fns
    tree = build_tree([(keccak256(b"salt-%d" % i), keccak256(b"doc-%d" % i)) for i in range(3)])
    env.anchor(body.anchoring, tree.root, 3)
    other_root = root_of("paused-root")
    env.anchor(body.anchoring, other_root, 1)
    compromised_time = next_time(env.w3, 5)
    send(env.w3, body.status, fns.revokeRoot(body.id, other_root, 1))
    send(env.w3, env.pauser, fns.pause())

    # Anchoring refuses, direct and relayed.
    assert_reverts(fns.anchor(root_of("p"), 1), body.anchoring.address, "EnforcedPause")
    deadline = env.deadline()
    item = env.sign(body.anchoring, root_of("p"), 1, deadline)
    assert_reverts(env.relay_call(deadline, [item]), env.relayer.address, "EnforcedPause")
    receipt = send(env.w3, env.relayer, env.relay_call(deadline, [item]), expect_success=False)
    assert receipt["status"] == 0

    # Revocations go on: by a revoker, and by the body's status key.
    send(
        env.w3,
        env.revoker,
        fns.revokeDocument(body.id, tree.root, tree.proof(0), tree.leaf(0), 5),
    )
    send(
        env.w3,
        body.status,
        fns.revokeDocument(body.id, tree.root, tree.proof(1), tree.leaf(1), 6),
    )
    send(env.w3, body.status, fns.revokeRoot(body.id, tree.root, 7))
    s = env.registry.status(body.anchoring.address, tree.root, tree.proof(1), tree.leaf(1))
    assert (s.document.reason, s.document.actor, s.root_status.reason) == (
        6,
        body.status.address,
        7,
    )
    # So do the registrar's changes, an annulment among them.
    env.by_registrar(fns.setKeyCompromised(body.status.address, compromised_time))
    env.by_registrar(fns.annulStatusChange(body.id, other_root, b"\x00" * 32, 0))
    assert env.registry.history_of(body.id, other_root)[0].annulled
    env.by_registrar(fns.registerBody(Kind.STATE_BODY, "LU-CTIE", ("CTIE", "", "", "")))
    env.add_key(4, Purpose.ANCHORING, "paused-new-key")
    # Unpaused, anchoring resumes.
    send(env.w3, env.pauser, fns.unpause())
    send(env.w3, env.relayer, env.relay_call(deadline, [item]))
    assert env.registry.anchor_of(body.id, root_of("p")).anchored
