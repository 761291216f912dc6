"""Properties of registry v2 against a Python model, with hypothesis (bounded, derandomized):

- a key's life (validity window, retirement, compromise times set and moved earlier) against
  anchors at random times: each anchor lands exactly when `KeyRecord.valid_at` says the key was
  valid then, and afterwards `status().authorised` of every anchor is `valid_at(anchoredAt)` of
  the key as it ends up, with no transaction per root;
- relayed calls mixing good and bad items: the call lands exactly when every item is good, else
  it reverts with the error of the first bad item; what lands reads back item by item.

Each example runs inside its own `evm_snapshot`, so examples do not see each other's chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_account import Account
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from anchor.chain.records import OPEN_ENDED, KeyRecord
from anchor.chain.registry import Purpose, SignedAnchor
from tests.support.registry_v2 import (
    ZERO32,
    World,
    assert_mined_revert,
    assert_reverts,
    latest_time,
    root_of,
    rpc,
    send,
    set_next_time,
    unpack_anchors,
)

pytestmark = pytest.mark.chain

BOUNDED = settings(
    max_examples=12,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@contextmanager
def isolated(env: World) -> Iterator[None]:
    snapshot = rpc(env.w3, "evm_snapshot")
    try:
        yield
    finally:
        assert rpc(env.w3, "evm_revert", [snapshot]) is True


# --- a key's life -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One transaction at ``at`` seconds after the key was added."""

    at: int
    kind: str  # "anchor", "retire" or "compromise"
    since: int = 0  # for "compromise": seconds after the key was added


#: Anchors four times as often as each of the registrar's two moves.
_op = st.builds(
    Op,
    st.integers(1, 300),
    st.sampled_from(["anchor"] * 4 + ["retire", "compromise"]),
    st.integers(-5, 300),
)
_life = st.tuples(
    st.integers(0, 60),  # validFrom, seconds after the key is added (0: now)
    st.one_of(st.none(), st.integers(1, 250)),  # validUntil after validFrom, or open-ended
    st.lists(_op, min_size=3, max_size=10),
)


@given(life=_life)
@BOUNDED
def test_authorisation_follows_the_key_validity_and_compromise_times(
    env: World, life: tuple[int, int | None, list[Op]]
) -> None:
    valid_from, length, ops = life
    body = env.bodies[0]
    with isolated(env):
        base = latest_time(env.w3) + 10
        start = base + valid_from
        until = 0 if length is None else start + length
        key = Account.create()
        set_next_time(env.w3, base)
        env.by_registrar(env.fns.addKey(body.id, key.address, Purpose.ANCHORING, start, until))
        rpc(env.w3, "anvil_setBalance", [key.address, hex(10**20)])
        model = KeyRecord(
            body.id, Purpose.ANCHORING, start, until or OPEN_ENDED, 0, body_active=True
        )
        anchored: list[tuple[bytes, int]] = []
        at = base
        for i, op in enumerate(sorted(ops, key=lambda o: o.at)):
            at = max(at + 1, base + op.at)
            set_next_time(env.w3, at)
            if op.kind == "anchor":
                root = root_of(f"life-{i}")
                receipt = send(env.w3, key, env.fns.anchor(root, 1), expect_success=False)
                if model.valid_at(at):
                    assert receipt["status"] == 1, f"anchor at {at - base} refused, {model}"
                    anchored.append((root, at))
                else:
                    assert receipt["status"] == 0, f"anchor at {at - base} landed, {model}"
                    assert_mined_revert(env.w3, receipt, "RegistryKeyNotValid", key.address)
            elif op.kind == "retire":
                env.by_registrar(env.fns.retireKey(key.address))
                model = replace(model, valid_until=min(model.valid_until, at))
            else:
                since = base + op.since
                refused = since > at or (
                    model.compromised_since != 0 and since >= model.compromised_since
                )
                call = env.fns.setKeyCompromised(key.address, since)
                receipt = send(env.w3, env.registrar, call, expect_success=False)
                if refused:
                    assert_mined_revert(env.w3, receipt, "RegistryBadCompromiseTime", since)
                else:
                    assert receipt["status"] == 1
                    model = replace(
                        model, compromised_since=since, valid_until=min(model.valid_until, at)
                    )
        assert env.registry.key_of(key.address) == model
        authorised = [model.valid_at(t) for _, t in anchored]
        event(f"anchors landed: {len(authorised)}, still authorised: {sum(authorised)}")
        for root, t in anchored:
            s = env.registry.status(key.address, root, [], root)
            assert (s.anchored_at, s.key) == (t, key.address)
            assert s.authorised is model.valid_at(t), (t - base, model)
            assert env.fns.isAuthorised(body.id, root).call() is model.valid_at(t)


# --- relayed calls with bad items -------------------------------------------------------------

KINDS = ["good", "zero root", "zero count", "stranger", "status key", "retired", "repeat"]


@given(kinds=st.lists(st.sampled_from(["good"] * 10 + KINDS[1:]), min_size=1, max_size=5))
@BOUNDED
def test_a_relayed_call_lands_whole_or_reverts_with_its_first_bad_item(
    env: World, kinds: list[str]
) -> None:
    with isolated(env):
        retired = env.add_key(3, Purpose.ANCHORING, "prop-retired")
        env.by_registrar(env.fns.retireKey(retired.address))
        stranger = Account.create()
        deadline = env.deadline()
        items: list[SignedAnchor] = []
        owners: list[int] = []
        first_error: tuple[str, tuple[Any, ...]] | None = None
        for i, kind in enumerate(kinds):
            body = env.bodies[i % 3]
            root, count, signer, owner = root_of(f"item-{i}"), i + 1, body.anchoring, body.id
            error: tuple[str, tuple[Any, ...]] | None = None
            if kind == "zero root":
                root, error = ZERO32, ("RegistryZeroRoot", ())
            elif kind == "zero count":
                count, error = 0, ("RegistryZeroLeafCount", ())
            elif kind == "stranger":
                signer, error = stranger, ("RegistryUnknownKey", (stranger.address,))
            elif kind == "status key":
                signer = body.status
                error = ("RegistryWrongPurpose", (body.status.address,))
            elif kind == "retired":
                signer, owner = retired, 3
                error = ("RegistryKeyNotValid", (retired.address,))
            elif kind == "repeat" and items:
                prior = items[-1]
                root, count, owner = prior.root, prior.leaf_count, owners[-1]
                signer = next(b.anchoring for b in env.bodies if b.id == owner)
                # After a good item, its copy; after a bad one, the call already failed.
                error = ("RegistryRootAlreadyAnchored", (owner, root))
            items.append(env.sign(signer, root, count, deadline))
            owners.append(owner)
            if error is not None and first_error is None:
                first_error = error
        call = env.relay_call(deadline, items)
        event(f"outcome: {first_error[0] if first_error else 'landed'}")
        if first_error is not None:
            assert_reverts(call, env.relayer.address, first_error[0], *first_error[1])
            return
        receipt = send(env.w3, env.relayer, call)
        (log,) = env.contract.events.RootsAnchored().process_receipt(receipt)
        assert unpack_anchors(log["args"]["anchors"]) == [
            (owner, item.root) for owner, item in zip(owners, items, strict=True)
        ]
        signers = {b.id: b.anchoring.address for b in env.bodies}
        t = latest_time(env.w3)
        for owner, item in zip(owners, items, strict=True):
            assert env.fns.anchorOf(owner, item.root).call() == (
                signers[owner],
                t,
                item.leaf_count,
            )
