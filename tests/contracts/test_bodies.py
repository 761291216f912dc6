"""Issuing bodies on registry v2: registration, names versioned by time, status transitions and
the views (bodyCount, bodyOf, bodyByCode, namesOf, nameAt, keysOf), each revert by its exact
custom error and each transaction by its exact list of events."""

from __future__ import annotations

import pytest

from anchor.chain.registry import BodyStatus, Kind, Names, Purpose
from anchor.merkle.hashing import keccak256
from tests.support.registry_v2 import (
    BODY_CODES,
    BODY_KINDS,
    BODY_NAMES,
    ZERO32,
    World,
    assert_logs,
    assert_reverts,
    block_time,
    mine,
    next_time,
    root_of,
    send,
    set_next_time,
)

pytestmark = pytest.mark.chain

NEW = Names(
    "Commune de Schengen", "Gemeinde Schengen", "Municipality of Schengen", "Gemeng Schengen"
)


def test_the_deployed_bodies_read_back_through_every_view(env: World) -> None:
    r = env.registry
    assert r.body_count() == 3
    for body, names, code, kind in zip(env.bodies, BODY_NAMES, BODY_CODES, BODY_KINDS, strict=True):
        record = r.body_of(body.id)
        assert (record.id, record.kind, record.status, record.code) == (
            body.id,
            kind,
            BodyStatus.ACTIVE,
            code,
        )
        assert record.registered_at > 0
        assert r.body_by_code(code) == body.id
        assert r.names_of(body.id) == [(record.registered_at, names)]
        assert r.name_at(body.id, record.registered_at) == names
        assert r.keys_of(body.id) == [body.anchoring.address, body.status.address]
        for key, purpose in ((body.anchoring, Purpose.ANCHORING), (body.status, Purpose.STATUS)):
            k = r.key_of(key.address)
            assert (k.body_id, k.purpose, k.body_active) == (body.id, purpose, True)
    assert [b.id for b in env.bodies] == [1, 2, 3]


def test_views_of_a_body_never_registered(env: World) -> None:
    r = env.registry
    record = r.body_of(99)
    assert (record.id, record.kind, record.status, record.registered_at, record.code) == (
        99,
        Kind.COMMUNE,
        BodyStatus.UNKNOWN,
        0,
        "",
    )
    assert r.names_of(99) == []
    assert r.name_at(99, 2**64 - 1) == Names("")
    assert r.keys_of(99) == []
    assert r.body_by_code("LU-NOWHERE") == 0
    assert r.body_by_code("") == 0


def test_register_body_assigns_the_next_id_and_emits_both_events(env: World) -> None:
    t = next_time(env.w3, 5)
    receipt = env.by_registrar(env.fns.registerBody(Kind.CHILDCARE, "LU-CRECHE-1", NEW.as_tuple()))
    assert block_time(env.w3, receipt) == t
    assert_logs(
        env.contract,
        receipt,
        ("BodyRegistered", {"bodyId": 4, "kind": Kind.CHILDCARE, "code": "LU-CRECHE-1"}),
        ("BodyRenamed", {"bodyId": 4, "since": t, "names": NEW.as_tuple()}),
    )
    r = env.registry
    assert r.body_count() == 4
    record = r.body_of(4)
    assert (record.kind, record.status, record.registered_at, record.code) == (
        Kind.CHILDCARE,
        BodyStatus.ACTIVE,
        t,
        "LU-CRECHE-1",
    )
    assert r.body_by_code("LU-CRECHE-1") == 4
    assert r.names_of(4) == [(t, NEW)]
    assert r.name_at(4, t - 1) == Names("")  # before its registration
    assert r.name_at(4, t) == NEW
    assert r.keys_of(4) == []


@pytest.mark.parametrize("kind", list(Kind))
def test_register_body_of_every_kind(env: World, kind: Kind) -> None:
    env.by_registrar(env.fns.registerBody(kind, f"LU-{kind.slug}", NEW.as_tuple()))
    assert env.registry.body_of(4).kind == kind


def test_an_empty_code_is_not_unique_and_maps_to_no_body(env: World) -> None:
    for _ in range(2):
        env.by_registrar(env.fns.registerBody(Kind.OTHER, "", NEW.as_tuple()))
    assert env.registry.body_count() == 5
    assert env.registry.body_of(5).code == ""
    assert env.registry.body_by_code("") == 0


def test_register_body_rejects_a_code_taken(env: World) -> None:
    call = env.fns.registerBody(Kind.COMMUNE, "LU-SIGI", NEW.as_tuple())
    assert_reverts(call, env.registrar.address, "RegistryCodeTaken", "LU-SIGI", 2)
    # Codes are compared byte for byte.
    env.by_registrar(env.fns.registerBody(Kind.COMMUNE, "lu-sigi", NEW.as_tuple()))
    assert env.registry.body_by_code("lu-sigi") == 4


def test_register_body_rejects_an_empty_french_name(env: World) -> None:
    call = env.fns.registerBody(Kind.COMMUNE, "LU-X", ("", "Gemeinde", "Municipality", ""))
    assert_reverts(call, env.registrar.address, "RegistryEmptyName")


def test_register_body_length_limits(env: World) -> None:
    by = env.registrar.address
    fns = env.fns
    assert_reverts(
        fns.registerBody(Kind.OTHER, "C" * 33, NEW.as_tuple()), by, "RegistryTooLong", 33, 32
    )
    long = "ë" * 65  # 130 bytes in UTF-8: the limit counts bytes
    for field in range(4):
        names = list(NEW.as_tuple())
        names[field] = long
        assert_reverts(
            fns.registerBody(Kind.OTHER, "", tuple(names)), by, "RegistryTooLong", 130, 128
        )
    at_limit = Names("F" * 128, "D" * 128, "E" * 128, "L" * 128)
    env.by_registrar(fns.registerBody(Kind.OTHER, "C" * 32, at_limit.as_tuple()))
    assert env.registry.names_of(4)[0][1] == at_limit


def test_rename_now_keeps_the_old_name_for_earlier_times(env: World) -> None:
    body = env.bodies[0]
    registered = env.registry.body_of(body.id).registered_at
    t = next_time(env.w3, 100)
    receipt = env.by_registrar(env.fns.renameBody(body.id, NEW.as_tuple(), 0))
    assert_logs(
        env.contract,
        receipt,
        ("BodyRenamed", {"bodyId": body.id, "since": t, "names": NEW.as_tuple()}),
    )
    r = env.registry
    assert r.names_of(body.id) == [(registered, body.names), (t, NEW)]
    assert r.name_at(body.id, t - 1) == body.names
    assert r.name_at(body.id, t) == NEW
    assert r.name_at(body.id, 2**64 - 1) == NEW


def test_rename_from_a_future_time(env: World) -> None:
    body = env.bodies[1]
    t = next_time(env.w3, 10)
    since = t + 1000
    receipt = env.by_registrar(env.fns.renameBody(body.id, NEW.as_tuple(), since))
    assert_logs(
        env.contract,
        receipt,
        ("BodyRenamed", {"bodyId": body.id, "since": since, "names": NEW.as_tuple()}),
    )
    r = env.registry
    assert r.name_at(body.id, since - 1) == body.names
    assert r.name_at(body.id, since) == NEW
    # An anchor before `since` keeps the old name at anchoring, and now too, until `since`.
    root = root_of("future-rename")
    env.anchor(body.anchoring, root, 1)
    status = r.status(body.anchoring.address, root, [], root)
    assert (status.name_at_anchor, status.name_now) == (body.names, body.names)
    mine(env.w3, 1000)
    status = r.status(body.anchoring.address, root, [], root)
    assert (status.name_at_anchor, status.name_now, status.renamed) == (body.names, NEW, True)


def test_rename_rejects_the_past(env: World) -> None:
    body = env.bodies[0]
    by = env.registrar.address
    fns = env.fns
    mine(env.w3, 100)
    now = env.w3.eth.get_block("latest")["timestamp"]
    # eth_call runs on the latest block's time: a time before it is in the past.
    assert_reverts(
        fns.renameBody(body.id, NEW.as_tuple(), now - 1), by, "RegistryRenameInPast", now - 1
    )
    assert_reverts(fns.renameBody(body.id, NEW.as_tuple(), 1), by, "RegistryRenameInPast", 1)
    # After a rename scheduled for later, neither "now" nor a time before it is accepted
    # (times relative to the scheduled one: a slow machine's next block may be seconds later).
    scheduled = now + 500
    env.by_registrar(fns.renameBody(body.id, NEW.as_tuple(), scheduled))
    now = env.w3.eth.get_block("latest")["timestamp"]
    assert_reverts(fns.renameBody(body.id, NEW.as_tuple(), 0), by, "RegistryRenameInPast", now)
    assert_reverts(
        fns.renameBody(body.id, NEW.as_tuple(), scheduled - 1),
        by,
        "RegistryRenameInPast",
        scheduled - 1,
    )
    later = Names("Commune de Schengen-sur-Moselle")
    env.by_registrar(fns.renameBody(body.id, later.as_tuple(), scheduled + 100))
    names = env.registry.names_of(body.id)
    assert [since for since, _ in names][1:] == [scheduled, scheduled + 100]


def test_rename_checks_names_and_the_body(env: World) -> None:
    by = env.registrar.address
    fns = env.fns
    assert_reverts(fns.renameBody(1, ("", "x", "y", ""), 0), by, "RegistryEmptyName")
    assert_reverts(fns.renameBody(1, ("x", "y" * 129, "", ""), 0), by, "RegistryTooLong", 129, 128)
    assert_reverts(fns.renameBody(99, NEW.as_tuple(), 0), by, "RegistryUnknownBody", 99)
    # A suspended body can be renamed; a retired one cannot.
    env.by_registrar(fns.setBodyStatus(1, BodyStatus.SUSPENDED))
    env.by_registrar(fns.renameBody(1, NEW.as_tuple(), 0))
    env.by_registrar(fns.setBodyStatus(1, BodyStatus.RETIRED))
    assert_reverts(fns.renameBody(1, NEW.as_tuple(), 0), by, "RegistryBodyRetired", 1)


def _key_mirror(env: World, body_id: int) -> list[bool]:
    return [env.registry.key_of(k).body_active for k in env.registry.keys_of(body_id)]


def test_body_status_transitions_and_the_keys_mirror(env: World) -> None:
    body = env.bodies[0]
    fns = env.fns
    steps = [
        BodyStatus.SUSPENDED,
        BodyStatus.ACTIVE,
        BodyStatus.SUSPENDED,
        BodyStatus.ACTIVE,
        BodyStatus.RETIRED,
    ]
    for status in steps:
        receipt = env.by_registrar(fns.setBodyStatus(body.id, status))
        assert_logs(env.contract, receipt, ("BodyStatusSet", {"bodyId": body.id, "status": status}))
        assert env.registry.body_of(body.id).status == status
        assert _key_mirror(env, body.id) == [status == BodyStatus.ACTIVE] * 2
    # Other bodies' keys are untouched.
    assert _key_mirror(env, 2) == [True, True]
    # Retired is final.
    for status in BodyStatus:
        assert_reverts(
            fns.setBodyStatus(body.id, status), env.registrar.address, "RegistryBodyRetired", 1
        )


def test_a_suspended_body_can_be_retired(env: World) -> None:
    env.by_registrar(env.fns.setBodyStatus(2, BodyStatus.SUSPENDED))
    env.by_registrar(env.fns.setBodyStatus(2, BodyStatus.RETIRED))
    assert env.registry.body_of(2).status == BodyStatus.RETIRED
    assert _key_mirror(env, 2) == [False, False]


def test_set_body_status_rejects_bad_transitions(env: World) -> None:
    by = env.registrar.address
    fns = env.fns
    for status in (BodyStatus.UNKNOWN, BodyStatus.ACTIVE):
        assert_reverts(fns.setBodyStatus(1, status), by, "RegistryBadBodyStatus", 1, status)
    env.by_registrar(fns.setBodyStatus(1, BodyStatus.SUSPENDED))
    assert_reverts(
        fns.setBodyStatus(1, BodyStatus.SUSPENDED),
        by,
        "RegistryBadBodyStatus",
        1,
        BodyStatus.SUSPENDED,
    )
    assert_reverts(fns.setBodyStatus(1, BodyStatus.UNKNOWN), by, "RegistryBadBodyStatus", 1, 0)
    assert_reverts(fns.setBodyStatus(9, BodyStatus.SUSPENDED), by, "RegistryUnknownBody", 9)


def test_a_key_added_to_a_suspended_body_follows_it(env: World) -> None:
    fns = env.fns
    env.by_registrar(fns.setBodyStatus(3, BodyStatus.SUSPENDED))
    key = env.add_key(3, Purpose.ANCHORING, "late-key")
    assert env.registry.key_of(key.address).body_active is False
    assert_reverts(fns.anchor(root_of("late"), 1), key.address, "RegistryKeyNotValid", key.address)
    env.by_registrar(fns.setBodyStatus(3, BodyStatus.ACTIVE))
    assert _key_mirror(env, 3) == [True, True, True]
    env.anchor(key, root_of("late"), 1)


def test_a_suspended_body_neither_anchors_nor_revokes_and_keeps_its_anchors(env: World) -> None:
    body = env.bodies[0]
    fns = env.fns
    root = root_of("before-suspension")
    env.anchor(body.anchoring, root, 1)
    for status in (BodyStatus.SUSPENDED, BodyStatus.RETIRED):
        env.by_registrar(fns.setBodyStatus(body.id, status))
        assert_reverts(
            fns.anchor(root_of(f"during-{status}"), 1),
            body.anchoring.address,
            "RegistryKeyNotValid",
            body.anchoring.address,
        )
        assert_reverts(
            fns.revokeRoot(body.id, root, 1),
            body.status.address,
            "RegistryUnauthorizedActor",
            body.status.address,
            body.id,
        )
        s = env.registry.status(body.anchoring.address, root, [], root)
        assert (s.authorised, s.body_status) == (True, status)
    # A revoker still can.
    send(env.w3, env.revoker, fns.revokeRoot(body.id, root, 9))


def test_name_at_anchoring_time_and_now(env: World) -> None:
    body = env.bodies[2]
    root = keccak256(b"named")
    t1 = next_time(env.w3, 10)
    env.anchor(body.anchoring, root, 1)
    t2 = next_time(env.w3, 10)
    env.by_registrar(env.fns.renameBody(body.id, NEW.as_tuple(), 0))
    s = env.registry.status(body.anchoring.address, root, [], root)
    assert (s.anchored_at, s.name_at_anchor, s.name_now, s.renamed) == (t1, body.names, NEW, True)
    assert env.registry.name_at(body.id, t1) == body.names
    assert env.registry.name_at(body.id, t2) == NEW
    # The names do not come with an unknown root; they do with the key's body.
    s = env.registry.status(body.anchoring.address, ZERO32, [], ZERO32)
    assert (s.anchored_at, s.name_at_anchor, s.name_now, s.code) == (0, Names(""), NEW, body.code)


def test_a_rename_at_the_time_of_the_last_version_takes_its_place(env: World) -> None:
    """`since` may equal the last version's (not be before it): the later version wins there,
    both stay in `namesOf`. This is what lets a body be renamed in the second it was registered."""
    body = env.bodies[0]
    since = next_time(env.w3, 1) + 100
    env.by_registrar(env.fns.renameBody(body.id, NEW.as_tuple(), since))
    other = Names("Commune de Schengen (Moselle)")
    env.by_registrar(env.fns.renameBody(body.id, other.as_tuple(), since))
    assert env.registry.names_of(body.id)[1:] == [(since, NEW), (since, other)]
    assert env.registry.name_at(body.id, since) == other
    t = next_time(env.w3, 1)
    env.by_registrar(env.fns.registerBody(Kind.OTHER, "", NEW.as_tuple()))
    set_next_time(env.w3, t)  # the same second
    env.by_registrar(env.fns.renameBody(4, other.as_tuple(), 0))
    assert env.registry.names_of(4) == [(t, NEW), (t, other)]
