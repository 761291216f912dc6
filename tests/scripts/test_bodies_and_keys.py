"""`scripts/bodies.py` and `scripts/keys.py` end to end: onboarding, names, statuses, keys, and
each mistake's one sentence. Signed by the registrar unless a test says otherwise."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.scripts.support import (
    ADMIN,
    OUTSIDER,
    REGISTRAR,
    Env,
    address,
    brownie_available,
    make_env,
    new_key,
)

pytestmark = [pytest.mark.brownie, pytest.mark.chain]

if not brownie_available():
    pytest.skip(
        "brownie's venv .venv-brownie is absent: run `make brownie-setup`",
        allow_module_level=True,
    )

CONTERN = (
    "fr=Commune de Contern",
    "de=Gemeng Conter",
    "en=Municipality of Contern",
    "lb=Gemeng Conter",
)
OPEN_ENDED = 2**64 - 1
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from make_env(tmp_path_factory.mktemp("bodies"))


def onboard(env: Env, *specs: str) -> int:
    out = env.ok("scripts/bodies.py", "onboard", *specs, as_=REGISTRAR)
    found = re.search(r"registered body (\d+)", out)
    assert found, out
    return int(found.group(1))


def test_onboard_a_body_with_its_two_keys_and_list_it(env: Env) -> None:
    _, anchoring = new_key()
    _, status = new_key()
    out = env.ok(
        "scripts/bodies.py", "onboard", "commune", "code=LU-COM-CONTERN", *CONTERN,
        f"anchoring={anchoring}", f"status={status}", as_=REGISTRAR,
    )  # fmt: skip
    assert "registered body 1: commune code='LU-COM-CONTERN' fr='Commune de Contern'" in out
    assert f"added anchoring key {anchoring} to body 1" in out
    assert f"added status key {status} to body 1" in out

    registry = env.registry
    body = registry.body_of(1)
    assert (body.id, int(body.kind), int(body.status), body.code) == (1, 0, 1, "LU-COM-CONTERN")
    [(since, names)] = registry.names_of(1)
    assert (names.fr, names.de, names.en, names.lb) == (
        "Commune de Contern", "Gemeng Conter", "Municipality of Contern", "Gemeng Conter",
    )  # fmt: skip
    assert since == body.registered_at
    assert list(registry.keys_of(1)) == [anchoring, status]
    for key, purpose in ((anchoring, 1), (status, 2)):
        record = registry.key_of(key)
        assert (record.body_id, int(record.purpose)) == (1, purpose)
        assert record.valid_until == OPEN_ENDED and record.compromised_since == 0

    # A state body without a code and without Luxembourgish name, keys valid for a term.
    _, ctie = new_key()
    body_id = onboard(
        env, "state-body", "fr=Centre des technologies de l'information de l'État",
        "de=Zentrum für Informationstechnologien des Staates",
        "en=Government IT Centre", f"anchoring={ctie}",
        "from=2030-01-01T00:00:00Z", "until=2036-01-01T00:00:00+01:00",
    )  # fmt: skip
    assert body_id == 2
    record = env.registry.key_of(ctie)
    assert (record.valid_from, record.valid_until) == (1893456000, 2082754800)

    out = env.ok("scripts/bodies.py", "list")
    assert f"registry {env.manifest['address']} on chain" in out and ": 2 bodies" in out
    assert re.search(
        rf"^body 1  commune  code='LU-COM-CONTERN'  active  registered {ISO}$", out, re.M
    )
    assert re.search(
        rf"^  name from {ISO}: fr='Commune de Contern' de='Gemeng Conter' "
        r"en='Municipality of Contern' lb='Gemeng Conter'$",
        out, re.M,
    )  # fmt: skip
    assert re.search(rf"^  key {anchoring}  anchoring  valid {ISO}\.\.open-ended$", out, re.M)
    assert re.search(rf"^  key {status}  status     valid {ISO}\.\.open-ended$", out, re.M)
    assert f"  key {ctie}  anchoring  valid 2030-01-01T00:00:00Z..2035-12-31T23:00:00Z" in out
    assert "body 2  state-body  code=''  active" in out


def test_rename_adds_a_version_and_never_rewrites_the_past(env: Env) -> None:
    body_id = onboard(env, "syndicate", "code=LU-SYN-SIGI", "fr=SIGI", "de=SIGI", "en=SIGI")
    later = env.now() + 3600
    out = env.ok(
        "scripts/bodies.py", "rename", str(body_id), "fr=Syndicat SIGI", f"since={later}",
        as_=REGISTRAR,
    )  # fmt: skip
    assert f"renamed body {body_id} from " in out
    assert "fr='Syndicat SIGI' de='SIGI' en='SIGI' lb=''" in out  # the others kept
    versions = env.registry.names_of(body_id)
    assert [(v[0], v[1].fr) for v in versions][1:] == [(later, "Syndicat SIGI")]
    assert versions[0][1].fr == "SIGI"
    shown = env.ok("scripts/bodies.py", "show", str(body_id))
    assert shown.count("  name from ") == 2

    env.fails(
        f"error: a new name applies from now or later, after the body's last name version: "
        f"{_iso(later - 60)} is too early (a rename never rewrites the past).",
        "scripts/bodies.py", "rename", str(body_id), "fr=Autre", f"since={later - 60}",
        as_=REGISTRAR,
    )  # fmt: skip
    env.fails(
        "error: give at least one new name: fr=, de=, en= or lb=.",
        "scripts/bodies.py", "rename", str(body_id), "since=now", as_=REGISTRAR,
    )  # fmt: skip


def test_suspend_reactivate_and_retire(env: Env) -> None:
    _, key = new_key()
    r = env.brownie(
        "scripts/bodies.py", "onboard", "childcare", "fr=Crèche A", f"anchoring={key}",
        as_=REGISTRAR,
    )  # fmt: skip
    assert r.code == 0, r.text
    assert (
        "warning: no de= and no en=: the verification page shows the French name instead "
        "(bodies.py rename adds them later)."
    ) in r.err.splitlines()
    found = re.search(r"registered body (\d+)", r.out)
    assert found, r.out
    body_id = int(found.group(1))
    b = str(body_id)
    assert f"body {body_id} is now suspended" in env.ok(
        "scripts/bodies.py", "suspend", b, as_=REGISTRAR
    )
    assert int(env.registry.body_of(body_id).status) == 2
    assert not env.registry.key_of(key).body_active  # its keys stop with it
    out = env.ok("scripts/bodies.py", "suspend", b, as_=REGISTRAR)
    assert f"body {body_id} is already suspended; nothing sent" in out
    assert f"body {body_id} is now active" in env.ok(
        "scripts/bodies.py", "reactivate", b, as_=REGISTRAR
    )
    assert env.registry.key_of(key).body_active
    assert f"body {body_id} is now retired" in env.ok(
        "scripts/bodies.py", "retire", b, as_=REGISTRAR
    )
    assert int(env.registry.body_of(body_id).status) == 3
    retired = f"error: body {body_id} is retired; a retired body cannot be changed."
    env.fails(retired, "scripts/bodies.py", "reactivate", b, as_=REGISTRAR)
    env.fails(retired, "scripts/bodies.py", "rename", b, "fr=Crèche B", as_=REGISTRAR)
    _, other = new_key()
    env.fails(retired, "scripts/keys.py", "add", b, other, "anchoring", as_=REGISTRAR)


def test_keys_add_rotate_retire(env: Env) -> None:
    _, first = new_key()
    body_id = onboard(env, "social-office", "fr=Office social", "de=Sozialamt", "en=Social office")
    out = env.ok(
        "scripts/keys.py", "add", str(body_id), first, "anchoring", "until=2040-01-01T00:00:00Z",
        as_=REGISTRAR,
    )  # fmt: skip
    assert f"added anchoring key {first} to body {body_id}: valid " in out
    assert env.registry.key_of(first).valid_until == 2208988800

    _, second = new_key()
    out = env.ok("scripts/keys.py", "rotate", first, second, as_=REGISTRAR)
    lines = out.splitlines()
    added = next(i for i, x in enumerate(lines) if x.startswith(f"added anchoring key {second}"))
    retired = next(i for i, x in enumerate(lines) if x.startswith(f"retired the old key {first}"))
    assert added < retired  # the new key first: the body is never without a valid key
    new, old = env.registry.key_of(second), env.registry.key_of(first)
    assert (new.body_id, int(new.purpose), new.valid_until) == (body_id, 1, OPEN_ENDED)
    assert new.valid_from <= env.now()
    assert old.valid_until <= env.now()

    out = env.ok("scripts/keys.py", "retire", first, as_=REGISTRAR)
    assert f"key {first} was already retired at " in out and "nothing sent" in out
    out = env.ok("scripts/keys.py", "retire", second, as_=REGISTRAR)
    assert f"retired key {second} of body {body_id}" in out
    assert env.registry.key_of(second).valid_until <= env.now()


def test_compromise_moves_only_earlier(env: Env) -> None:
    _, key = new_key()
    body_id = onboard(env, "other", "fr=Autre", "de=Andere", "en=Other", f"status={key}")
    t = env.now() - 30
    out = env.ok("scripts/keys.py", "compromise", key, _iso(t), as_=REGISTRAR)
    assert f"marked status key {key} of body {body_id} compromised since {_iso(t)}" in out
    assert f"keys.py annul_all {key}" in out
    record = env.registry.key_of(key)
    assert record.compromised_since == t and record.valid_until <= env.now()
    env.fails(
        f"error: key {key} is already marked compromised since {_iso(t)}; a compromise time may "
        "only move earlier.",
        "scripts/keys.py", "compromise", key, str(t + 10), as_=REGISTRAR,
    )  # fmt: skip
    env.ok("scripts/keys.py", "compromise", key, str(t - 100), as_=REGISTRAR)
    assert env.registry.key_of(key).compromised_since == t - 100
    future = env.now() + 86_400
    env.fails(
        f"error: a compromise time is at most now: {_iso(future)} is after the chain's time "
        f"{_iso(env.now())}.",
        "scripts/keys.py", "compromise", key, str(future), as_=REGISTRAR,
    )  # fmt: skip


def test_mistakes_are_one_sentence(env: Env) -> None:
    registry = env.manifest["address"]
    taken = env.registry.keys_of(1)[0]
    _, fresh = new_key()
    count = env.registry.body_count()
    cases: list[tuple[str, tuple[str, ...], int]] = [
        (
            f"error: account {address(OUTSIDER)} lacks the registrar role on the registry at "
            f"{registry}.",
            ("scripts/bodies.py", "onboard", "commune", *CONTERN[:3]),
            OUTSIDER,
        ),
        (  # the admin holds no registrar role unless granted
            f"error: account {address(ADMIN)} lacks the registrar role on the registry at "
            f"{registry}.",
            ("scripts/keys.py", "retire", taken),
            ADMIN,
        ),
        (
            "error: the French name fr= is required (de=, en= and lb= are optional).",
            ("scripts/bodies.py", "onboard", "commune", "de=Gemeng Mamer", "en=Mamer"),
            REGISTRAR,
        ),
        (
            f"error: key {taken} already belongs to body 1.",
            ("scripts/bodies.py", "onboard", "commune", *CONTERN[:3], f"anchoring={taken}"),
            REGISTRAR,
        ),
        (
            f"error: key {taken} already belongs to body 1.",
            ("scripts/keys.py", "add", "2", taken, "status"),
            REGISTRAR,
        ),
        (
            "error: the official code 'LU-COM-CONTERN' already belongs to body 1.",
            ("scripts/bodies.py", "onboard", "commune", "code=LU-COM-CONTERN", *CONTERN[:3]),
            REGISTRAR,
        ),
        (
            f"error: the anchoring key and the status key must differ: {fresh} is given for both.",
            (
                "scripts/bodies.py",
                "onboard",
                "other",
                *CONTERN[:3],
                f"anchoring={fresh}",
                f"status={fresh}",
            ),
            REGISTRAR,
        ),
        (
            f"error: there is no body 99 on the registry at {registry} ({count} bodies "
            "registered).",
            ("scripts/keys.py", "add", "99", fresh, "anchoring"),
            REGISTRAR,
        ),
        (
            "error: purpose 'signing' is not a key purpose: use anchoring or status.",
            ("scripts/keys.py", "add", "1", fresh, "signing"),
            REGISTRAR,
        ),
        (
            f"error: key {fresh} belongs to no body on the registry {registry}.",
            ("scripts/keys.py", "rotate", fresh, new_key()[1]),
            REGISTRAR,
        ),
        (
            "error: kind 'village' is not a body kind: use one of commune, syndicate, "
            "social-office, childcare, state-body, other.",
            ("scripts/bodies.py", "onboard", "village", *CONTERN[:3]),
            REGISTRAR,
        ),
        (
            "error: unknown option 'nl': use fr=, de=, en=, lb=, code=, anchoring=, status=, "
            "from=, until=.",
            ("scripts/bodies.py", "onboard", "commune", *CONTERN[:3], "nl=Gemeente"),
            REGISTRAR,
        ),
        (
            "error: wrong arguments for add: missing a required argument: 'purpose' (run the "
            "help function).",
            ("scripts/keys.py", "add", "1", fresh),
            REGISTRAR,
        ),
    ]
    for expected, args, signer in cases:
        env.fails(expected, *args, as_=signer)
    assert env.registry.body_count() == count  # nothing was registered
    assert env.registry.key_of(fresh).body_id == 0


def _iso(t: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")
