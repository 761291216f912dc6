"""Relayed anchoring on registry v2: `anchorSigned(deadline, anchors)` carries roots signed
(EIP-712) by the anchoring keys of several bodies; the relayer holds no role.

Every record written by the assembly loop is read back through `anchorOf` and `status` (the key,
the time and the leaf count: the loop's storage layout), the packed data of `RootsAnchored` is
decoded, and each failure is checked by its exact custom error, on an `eth_call` and, where it
matters that nothing of the call stays, on a mined transaction.
"""

from __future__ import annotations

import pytest
from eth_abi.abi import encode
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractCustomError

from anchor.chain.eip712 import anchor_digest
from anchor.chain.registry import BodyStatus, Purpose, SignedAnchor, decode_revert
from tests.support.registry_v2 import (
    MAX_UINT32,
    ZERO32,
    World,
    assert_logs,
    assert_mined_revert,
    assert_reverts,
    block_time,
    latest_time,
    mine,
    next_time,
    recover,
    root_of,
    send,
    set_next_time,
    unpack_anchors,
)

pytestmark = pytest.mark.chain


def _expect_nothing_anchored(env: World, pairs: list[tuple[int, bytes]]) -> None:
    for body_id, root in pairs:
        assert not env.registry.anchor_of(body_id, root).anchored, (body_id, root.hex())


def test_three_bodies_in_one_call_every_record_read_back(env: World) -> None:
    deadline = env.deadline()
    counts = [1, 1000, MAX_UINT32]
    roots = [root_of(f"relayed-{i}") for i in range(3)]
    items = [
        env.sign(body.anchoring, root, n, deadline)
        for body, root, n in zip(env.bodies, roots, counts, strict=True)
    ]
    t = next_time(env.w3, 3)
    receipt = send(env.w3, env.relayer, env.relay_call(deadline, items))
    assert block_time(env.w3, receipt) == t
    packed = b"".join(
        body.id.to_bytes(4, "big") + root for body, root in zip(env.bodies, roots, strict=True)
    )
    assert_logs(
        env.contract,
        receipt,
        ("RootsAnchored", {"relayer": env.relayer.address, "anchors": packed}),
    )
    (log,) = env.contract.events.RootsAnchored().process_receipt(receipt)
    assert unpack_anchors(log["args"]["anchors"]) == [
        (body.id, root) for body, root in zip(env.bodies, roots, strict=True)
    ]
    for body, root, n in zip(env.bodies, roots, counts, strict=True):
        assert env.fns.anchorOf(body.id, root).call() == (body.anchoring.address, t, n)
        s = env.registry.status(body.anchoring.address, root, [], root)
        assert (s.included, s.anchored_at, s.leaf_count, s.key, s.authorised, s.body_id) == (
            True,
            t,
            n,
            body.anchoring.address,
            True,
            body.id,
        )
        # Nothing is recorded under another body.
        for other in env.bodies:
            if other.id != body.id:
                assert not env.registry.anchor_of(other.id, root).anchored
    # The relayer gained nothing: it is no key and holds no role.
    assert not env.registry.key_of(env.relayer.address).registered


def test_one_call_carries_the_same_root_for_two_bodies_and_two_roots_of_one(env: World) -> None:
    deadline = env.deadline()
    a, b = env.bodies[0], env.bodies[1]
    shared, own = root_of("shared-relayed"), root_of("own-relayed")
    items = [
        env.sign(a.anchoring, shared, 4, deadline),
        env.sign(b.anchoring, shared, 8, deadline),
        env.sign(a.anchoring, own, 2, deadline),
    ]
    receipt = send(env.w3, env.relayer, env.relay_call(deadline, items))
    t = block_time(env.w3, receipt)
    (log,) = env.contract.events.RootsAnchored().process_receipt(receipt)
    assert unpack_anchors(log["args"]["anchors"]) == [(a.id, shared), (b.id, shared), (a.id, own)]
    assert env.fns.anchorOf(a.id, shared).call() == (a.anchoring.address, t, 4)
    assert env.fns.anchorOf(b.id, shared).call() == (b.anchoring.address, t, 8)
    assert env.fns.anchorOf(a.id, own).call() == (a.anchoring.address, t, 2)


def test_twenty_bodies_in_one_call(env: World) -> None:
    """The size the gas budget is set for: every record lands at its place."""
    for i in range(17):
        env.register_body(f"extra{i}")
    assert len(env.bodies) == 20
    deadline = env.deadline()
    roots = [root_of(f"twenty-{i}") for i in range(20)]
    items = [
        env.sign(body.anchoring, root, i + 1, deadline)
        for i, (body, root) in enumerate(zip(env.bodies, roots, strict=True))
    ]
    receipt = send(env.w3, env.relayer, env.relay_call(deadline, items))
    t = block_time(env.w3, receipt)
    assert len(receipt["logs"]) == 1  # one event for the whole call
    (log,) = env.contract.events.RootsAnchored().process_receipt(receipt)
    assert log["args"]["relayer"] == env.relayer.address
    assert unpack_anchors(log["args"]["anchors"]) == [
        (b.id, r) for b, r in zip(env.bodies, roots, strict=True)
    ]
    for i, (body, root) in enumerate(zip(env.bodies, roots, strict=True)):
        assert env.fns.anchorOf(body.id, root).call() == (body.anchoring.address, t, i + 1)
    per_root = receipt["gasUsed"] / 20
    assert per_root <= 32_000, f"{per_root:.0f} gas a root"


def test_an_empty_list(env: World) -> None:
    by = env.relayer.address
    assert_reverts(env.fns.anchorSigned(env.deadline(), []), by, "RegistryNoAnchors")
    # Checked before the deadline.
    assert_reverts(env.fns.anchorSigned(0, []), by, "RegistryNoAnchors")


def test_the_deadline_is_the_last_second_it_may_land(env: World) -> None:
    body = env.bodies[0]
    t = latest_time(env.w3) + 10
    late = env.sign(body.anchoring, root_of("late"), 1, t - 1)
    set_next_time(env.w3, t)
    receipt = send(env.w3, env.relayer, env.relay_call(t - 1, [late]), expect_success=False)
    assert_mined_revert(env.w3, receipt, "RegistrySignatureExpired", t - 1)
    _expect_nothing_anchored(env, [(body.id, root_of("late"))])
    on_time = env.sign(body.anchoring, root_of("on-time"), 1, t + 1)
    set_next_time(env.w3, t + 1)
    send(env.w3, env.relayer, env.relay_call(t + 1, [on_time]))
    assert env.registry.anchor_of(body.id, root_of("on-time")).anchored_at == t + 1
    # A deadline other than the one signed recovers another address.
    item = env.sign(body.anchoring, root_of("x"), 1, t + 100)
    wrong = recover(
        anchor_digest(
            env.chain_id, env.registry.address, root_of("x"), 1, env.relayer.address, t + 101
        ),
        item.r,
        item.vs,
    )
    assert wrong is not None and wrong != body.anchoring.address
    assert_reverts(
        env.relay_call(t + 101, [item]), env.relayer.address, "RegistryUnknownKey", wrong
    )


def test_a_signature_by_a_key_of_no_body(env: World) -> None:
    stranger = Account.create()
    deadline = env.deadline()
    item = env.sign(stranger, root_of("s"), 1, deadline)
    assert_reverts(
        env.relay_call(deadline, [item]),
        env.relayer.address,
        "RegistryUnknownKey",
        stranger.address,
    )


def test_a_tampered_item_recovers_an_unknown_address(env: World) -> None:
    body = env.bodies[1]
    deadline = env.deadline()
    item = env.sign(body.anchoring, root_of("t"), 10, deadline)
    tampered = SignedAnchor(item.root, 11, deadline, item.r, item.vs)
    digest = anchor_digest(
        env.chain_id, env.registry.address, item.root, 11, env.relayer.address, deadline
    )
    recovered = recover(digest, item.r, item.vs)
    assert recovered is not None and recovered != body.anchoring.address
    assert_reverts(
        env.relay_call(deadline, [tampered]), env.relayer.address, "RegistryUnknownKey", recovered
    )


def test_garbage_signatures(env: World) -> None:
    body = env.bodies[0]
    deadline = env.deadline()
    good = env.sign(body.anchoring, root_of("g0"), 1, deadline)
    by = env.relayer.address
    # r = 0 recovers no address: RegistryBadSignature with the item's index.
    zero_r = SignedAnchor(root_of("g1"), 1, deadline, ZERO32, good.vs)
    assert_reverts(env.relay_call(deadline, [good, zero_r]), by, "RegistryBadSignature", 1)
    # Arbitrary words: whatever the precompile makes of them, the error says it exactly.
    seen = set()
    for i in range(12):
        r = Web3.keccak(text=f"garbage-r-{i}")
        vs = Web3.keccak(text=f"garbage-vs-{i}")
        item = SignedAnchor(root_of(f"g{i}"), 1, deadline, bytes(r), bytes(vs))
        digest = anchor_digest(env.chain_id, env.registry.address, item.root, 1, by, deadline)
        recovered = recover(digest, item.r, item.vs)
        if recovered is None:
            assert_reverts(env.relay_call(deadline, [item]), by, "RegistryBadSignature", 0)
        else:
            assert_reverts(env.relay_call(deadline, [item]), by, "RegistryUnknownKey", recovered)
        seen.add(recovered is None)
    assert seen == {True, False}, "the garbage should hit both errors"


def test_a_replayed_signature(env: World) -> None:
    body = env.bodies[2]
    deadline = env.deadline()
    item = env.sign(body.anchoring, root_of("r"), 3, deadline)
    receipt = send(env.w3, env.relayer, env.relay_call(deadline, [item]))
    t = block_time(env.w3, receipt)
    by = env.relayer.address
    args = ("RegistryRootAlreadyAnchored", body.id, item.root)
    assert_reverts(env.relay_call(deadline, [item]), by, *args)
    # The same item twice in one call, and after a direct anchor of another root.
    other = env.sign(body.anchoring, root_of("r2"), 3, deadline)
    assert_reverts(env.relay_call(deadline, [other, other]), by, "RegistryRootAlreadyAnchored",
                   body.id, other.root)  # fmt: skip
    assert env.fns.anchorOf(body.id, item.root).call() == (body.anchoring.address, t, 3)
    # A root anchored directly cannot be anchored again through a relayer.
    env.anchor(body.anchoring, root_of("direct"), 1)
    again = env.sign(body.anchoring, root_of("direct"), 1, deadline)
    assert_reverts(
        env.relay_call(deadline, [again]), by, "RegistryRootAlreadyAnchored", body.id, again.root
    )


def test_a_call_sent_by_another_account_than_the_signed_relayer(env: World) -> None:
    body = env.bodies[0]
    deadline = env.deadline()
    item = env.sign(body.anchoring, root_of("mine"), 1, deadline)  # for env.relayer
    for thief in (env.other, env.admin, body.anchoring):
        digest = anchor_digest(
            env.chain_id, env.registry.address, item.root, 1, thief.address, deadline
        )
        recovered = recover(digest, item.r, item.vs)
        assert recovered not in (None, body.anchoring.address)
        assert_reverts(
            env.relay_call(deadline, [item]), thief.address, "RegistryUnknownKey", recovered
        )
    receipt = send(env.w3, env.other, env.relay_call(deadline, [item]), expect_success=False)
    assert receipt["status"] == 0
    _expect_nothing_anchored(env, [(body.id, item.root)])
    send(env.w3, env.relayer, env.relay_call(deadline, [item]))
    assert env.registry.anchor_of(body.id, item.root).key == body.anchoring.address


def test_argument_checks_of_each_item(env: World) -> None:
    body = env.bodies[0]
    deadline = env.deadline()
    by = env.relayer.address
    good = env.sign(body.anchoring, root_of("ok"), 1, deadline)
    zero_root = env.sign(body.anchoring, ZERO32, 1, deadline)
    zero_count = env.sign(body.anchoring, root_of("zero"), 0, deadline)
    assert_reverts(env.relay_call(deadline, [good, zero_root]), by, "RegistryZeroRoot")
    assert_reverts(env.relay_call(deadline, [zero_count, good]), by, "RegistryZeroLeafCount")


def test_a_leaf_count_wider_than_uint32(env: World) -> None:
    """The loop reads the item's words itself: a count past uint32 is refused like zero."""
    body = env.bodies[0]
    deadline = env.deadline()
    good = env.sign(body.anchoring, root_of("ok"), 1, deadline)
    selector = Web3.keccak(text="anchorSigned(uint64,(bytes32,uint32,bytes32,bytes32)[])")[:4]
    items = [
        (good.root, good.leaf_count, good.r, good.vs),
        (root_of("wide"), 2**32, good.r, good.vs),
    ]
    data = selector + encode(["uint64", "(bytes32,uint256,bytes32,bytes32)[]"], [deadline, items])
    by = env.relayer.address
    with pytest.raises(ContractCustomError) as caught:
        env.w3.eth.call({"to": env.registry.address, "from": by, "data": Web3.to_hex(data)})
    assert decode_revert(str(caught.value.data)) == ("RegistryZeroLeafCount", ())


def test_keys_that_may_not_anchor_now(env: World) -> None:
    """Retired, not yet valid, compromised, of a suspended body: RegistryKeyNotValid; a status
    key: RegistryWrongPurpose. The first bad item names the error; nothing of the call stays."""
    b1, b2, b3 = env.bodies
    fns = env.fns
    retired = env.add_key(b1.id, Purpose.ANCHORING, "retired")
    env.by_registrar(fns.retireKey(retired.address))
    future = env.add_key(b1.id, Purpose.ANCHORING, "future", latest_time(env.w3) + 10_000, 0)
    compromised = env.add_key(b2.id, Purpose.ANCHORING, "compromised")
    mine(env.w3, 10)
    env.by_registrar(fns.setKeyCompromised(compromised.address, latest_time(env.w3)))
    env.by_registrar(fns.setBodyStatus(b3.id, BodyStatus.SUSPENDED))
    deadline = env.deadline()
    by = env.relayer.address
    good = env.sign(b1.anchoring, root_of("good"), 1, deadline)
    for key, error in (
        (retired, "RegistryKeyNotValid"),
        (future, "RegistryKeyNotValid"),
        (compromised, "RegistryKeyNotValid"),
        (b3.anchoring, "RegistryKeyNotValid"),
        (b2.status, "RegistryWrongPurpose"),
    ):
        bad = env.sign(key, root_of(f"bad-{key.address}"), 1, deadline)
        assert_reverts(env.relay_call(deadline, [good, bad]), by, error, key.address)
    # The first bad item decides.
    items = [
        good,
        env.sign(b2.status, root_of("p"), 1, deadline),
        SignedAnchor(root_of("q"), 1, deadline, ZERO32, good.vs),
    ]
    assert_reverts(env.relay_call(deadline, items), by, "RegistryWrongPurpose", b2.status.address)
    # Mined: the whole call reverts; the good item before the bad one is not recorded.
    bad = env.sign(compromised, root_of("late-compromised"), 1, deadline)
    receipt = send(env.w3, env.relayer, env.relay_call(deadline, [good, bad]), expect_success=False)
    assert_mined_revert(env.w3, receipt, "RegistryKeyNotValid", compromised.address)
    assert receipt["logs"] == []
    _expect_nothing_anchored(env, [(b1.id, good.root), (b2.id, bad.root)])
    # Reactivated, body 3's key anchors again.
    env.by_registrar(fns.setBodyStatus(b3.id, BodyStatus.ACTIVE))
    send(
        env.w3,
        env.relayer,
        env.relay_call(deadline, [good, env.sign(b3.anchoring, root_of("b3"), 1, deadline)]),
    )
    assert env.registry.anchor_of(b3.id, root_of("b3")).anchored
