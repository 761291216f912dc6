"""Keys of bodies on registry v2: addKey, retireKey, setKeyCompromised, keyOf and keysOf, the
validity window as anchoring sees it, each revert by its exact custom error."""

from __future__ import annotations

import pytest
from eth_account import Account

from anchor.chain.records import OPEN_ENDED
from anchor.chain.registry import BodyStatus, Purpose
from tests.support.registry_v2 import (
    ZERO_ADDRESS,
    World,
    assert_logs,
    assert_reverts,
    labelled_key,
    latest_time,
    mine,
    next_time,
    root_of,
    set_next_time,
)

pytestmark = pytest.mark.chain


def test_add_key_now_and_open_ended(env: World) -> None:
    key = labelled_key(env.w3, "new-anchoring")
    t = next_time(env.w3, 7)
    receipt = env.by_registrar(env.fns.addKey(2, key.address, Purpose.ANCHORING, 0, 0))
    assert_logs(
        env.contract,
        receipt,
        (
            "KeyAdded",
            {
                "bodyId": 2,
                "key": key.address,
                "purpose": Purpose.ANCHORING,
                "validFrom": t,
                "validUntil": OPEN_ENDED,
            },
        ),
    )
    k = env.registry.key_of(key.address)
    assert (k.body_id, k.purpose, k.valid_from, k.valid_until, k.compromised_since) == (
        2,
        Purpose.ANCHORING,
        t,
        OPEN_ENDED,
        0,
    )
    assert k.body_active and k.registered
    body = env.bodies[1]
    assert env.registry.keys_of(2) == [body.anchoring.address, body.status.address, key.address]


def test_add_key_with_a_window_and_a_past_start(env: World) -> None:
    key = labelled_key(env.w3, "windowed")
    t = next_time(env.w3, 1)
    receipt = env.by_registrar(env.fns.addKey(1, key.address, Purpose.STATUS, 1, t + 50))
    # A start in the past means now.
    assert_logs(
        env.contract,
        receipt,
        (
            "KeyAdded",
            {
                "bodyId": 1,
                "key": key.address,
                "purpose": Purpose.STATUS,
                "validFrom": t,
                "validUntil": t + 50,
            },
        ),
    )
    later = labelled_key(env.w3, "later")
    env.by_registrar(env.fns.addKey(1, later.address, Purpose.ANCHORING, t + 100, t + 200))
    k = env.registry.key_of(later.address)
    assert (k.valid_from, k.valid_until) == (t + 100, t + 200)
    assert not k.valid_at(t + 99) and k.valid_at(t + 100) and not k.valid_at(t + 200)


def test_add_key_rejections(env: World) -> None:
    by = env.registrar.address
    fns = env.fns
    fresh = Account.create().address
    taken = env.bodies[0].anchoring.address
    assert_reverts(fns.addKey(2, taken, Purpose.ANCHORING, 0, 0), by, "RegistryKeyTaken", taken, 1)
    assert_reverts(fns.addKey(1, taken, Purpose.STATUS, 0, 0), by, "RegistryKeyTaken", taken, 1)
    assert_reverts(fns.addKey(1, ZERO_ADDRESS, Purpose.ANCHORING, 0, 0), by, "RegistryZeroKey")
    assert_reverts(fns.addKey(1, fresh, Purpose.NONE, 0, 0), by, "RegistryBadPurpose")
    now = latest_time(env.w3)
    assert_reverts(
        fns.addKey(1, fresh, Purpose.ANCHORING, 0, now - 1),
        by,
        "RegistryBadValidity",
        now,
        now - 1,
    )
    assert_reverts(
        fns.addKey(1, fresh, Purpose.ANCHORING, 0, now), by, "RegistryBadValidity", now, now
    )
    assert_reverts(
        fns.addKey(1, fresh, Purpose.ANCHORING, now + 10, now + 10),
        by,
        "RegistryBadValidity",
        now + 10,
        now + 10,
    )
    assert_reverts(fns.addKey(9, fresh, Purpose.ANCHORING, 0, 0), by, "RegistryUnknownBody", 9)
    env.by_registrar(fns.setBodyStatus(3, BodyStatus.RETIRED))
    assert_reverts(fns.addKey(3, fresh, Purpose.ANCHORING, 0, 0), by, "RegistryBodyRetired", 3)


def test_a_key_address_serves_one_body_once_forever(env: World) -> None:
    key = env.bodies[2].anchoring
    env.by_registrar(env.fns.retireKey(key.address))
    env.by_registrar(env.fns.setBodyStatus(3, BodyStatus.RETIRED))
    call = env.fns.addKey(1, key.address, Purpose.ANCHORING, 0, 0)
    assert_reverts(call, env.registrar.address, "RegistryKeyTaken", key.address, 3)


def test_key_of_an_address_that_is_no_key(env: World) -> None:
    k = env.registry.key_of(env.other.address)
    assert (k.body_id, k.purpose, k.valid_from, k.valid_until, k.registered) == (
        0,
        Purpose.NONE,
        0,
        0,
        False,
    )


def test_retire_key(env: World) -> None:
    body = env.bodies[0]
    key = body.anchoring.address
    before = root_of("before-retirement")
    anchored_at = next_time(env.w3, 5)
    env.anchor(body.anchoring, before, 3)
    t = next_time(env.w3, 5)
    receipt = env.by_registrar(env.fns.retireKey(key))
    assert_logs(env.contract, receipt, ("KeyRetired", {"key": key, "at": t}))
    assert env.registry.key_of(key).valid_until == t
    assert_reverts(env.fns.anchor(root_of("after"), 1), key, "RegistryKeyNotValid", key)
    s = env.registry.status(key, before, [], before)
    assert (s.anchored_at, s.authorised) == (anchored_at, True)
    # Retiring again changes nothing and says nothing.
    receipt = env.by_registrar(env.fns.retireKey(key))
    assert_logs(env.contract, receipt)
    assert env.registry.key_of(key).valid_until == t


def test_retire_a_key_that_ends_later_and_one_already_over(env: World) -> None:
    key = labelled_key(env.w3, "short")
    t = next_time(env.w3, 1)
    env.by_registrar(env.fns.addKey(1, key.address, Purpose.ANCHORING, 0, t + 1000))
    t2 = next_time(env.w3, 10)
    receipt = env.by_registrar(env.fns.retireKey(key.address))
    assert_logs(env.contract, receipt, ("KeyRetired", {"key": key.address, "at": t2}))
    expired = labelled_key(env.w3, "expired")
    t3 = next_time(env.w3, 1)
    env.by_registrar(env.fns.addKey(1, expired.address, Purpose.ANCHORING, 0, t3 + 2))
    mine(env.w3, 10)
    assert_logs(env.contract, env.by_registrar(env.fns.retireKey(expired.address)))
    assert env.registry.key_of(expired.address).valid_until == t3 + 2


def test_retire_and_compromise_reject_an_unknown_key(env: World) -> None:
    by = env.registrar.address
    stranger = env.other.address
    assert_reverts(env.fns.retireKey(stranger), by, "RegistryUnknownKey", stranger)
    assert_reverts(env.fns.setKeyCompromised(stranger, 1), by, "RegistryUnknownKey", stranger)


def test_the_validity_window_as_anchoring_sees_it(env: World) -> None:
    key = labelled_key(env.w3, "window")
    t = latest_time(env.w3)
    start, end = t + 100, t + 200
    env.by_registrar(env.fns.addKey(1, key.address, Purpose.ANCHORING, start, end))
    a = key.address
    set_next_time(env.w3, start - 1)
    env.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert_reverts(env.fns.anchor(root_of("w0"), 1), a, "RegistryKeyNotValid", a)
    set_next_time(env.w3, start)
    env.anchor(key, root_of("w1"), 1)
    set_next_time(env.w3, end - 1)
    env.anchor(key, root_of("w2"), 1)
    set_next_time(env.w3, end)
    env.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert_reverts(env.fns.anchor(root_of("w3"), 1), a, "RegistryKeyNotValid", a)
    for label, at in (("w1", start), ("w2", end - 1)):
        record = env.registry.anchor_of(1, root_of(label))
        assert (record.key, record.anchored_at) == (a, at)
        assert env.fns.isAuthorised(1, root_of(label)).call() is True


def test_set_key_compromised(env: World) -> None:
    body = env.bodies[1]
    key = body.anchoring.address
    t0 = latest_time(env.w3)
    t = next_time(env.w3, 100)
    since = t0 + 50
    receipt = env.by_registrar(env.fns.setKeyCompromised(key, since))
    # Compromised, and retired at once.
    assert_logs(
        env.contract,
        receipt,
        ("KeyCompromised", {"key": key, "since": since}),
        ("KeyRetired", {"key": key, "at": t}),
    )
    k = env.registry.key_of(key)
    assert (k.compromised_since, k.valid_until) == (since, t)
    assert_reverts(env.fns.anchor(root_of("c"), 1), key, "RegistryKeyNotValid", key)
    # It may move earlier only; the key is already retired, so only one event.
    receipt = env.by_registrar(env.fns.setKeyCompromised(key, since - 10))
    assert_logs(env.contract, receipt, ("KeyCompromised", {"key": key, "since": since - 10}))
    by = env.registrar.address
    for later in (since - 10, since, latest_time(env.w3)):
        assert_reverts(
            env.fns.setKeyCompromised(key, later), by, "RegistryBadCompromiseTime", later
        )


def test_a_compromise_time_is_never_in_the_future_nor_zero(env: World) -> None:
    key = env.bodies[0].status.address
    by = env.registrar.address
    now = latest_time(env.w3)
    assert_reverts(
        env.fns.setKeyCompromised(key, now + 1), by, "RegistryBadCompromiseTime", now + 1
    )
    # Zero is what "not compromised" is stored as: it can neither mark nor clear a compromise.
    assert_reverts(env.fns.setKeyCompromised(key, 0), by, "RegistryBadCompromiseTime", 0)
    env.by_registrar(env.fns.setKeyCompromised(key, now))
    assert_reverts(env.fns.setKeyCompromised(key, 0), by, "RegistryBadCompromiseTime", 0)
    assert env.registry.key_of(key).compromised_since == now


def test_a_retired_bodys_keys_can_still_be_retired_and_marked_compromised(env: World) -> None:
    body = env.bodies[2]
    since = latest_time(env.w3)
    env.by_registrar(env.fns.setBodyStatus(body.id, BodyStatus.RETIRED))
    env.by_registrar(env.fns.retireKey(body.anchoring.address))
    env.by_registrar(env.fns.setKeyCompromised(body.status.address, since))
    assert env.registry.key_of(body.status.address).compromised_since == since
