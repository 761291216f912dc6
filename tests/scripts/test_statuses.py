"""`scripts/revoke.py`, `scripts/pause.py` and the compromise response of docs/operations.md end
to end: who may revoke, pause stops anchoring but not revocation, and after a key's compromise
its later anchors are not authorised and its later status changes are annulled."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from web3.exceptions import ContractCustomError

from anchor.chain.lifecycle import day_start
from anchor.chain.registry import ChangeKind
from tests.scripts.support import (
    PAUSER,
    REGISTRAR,
    REVOKER,
    Env,
    address,
    anchor,
    brownie_available,
    make_env,
    new_key,
    write,
)

pytestmark = [pytest.mark.brownie, pytest.mark.chain]

if not brownie_available():
    pytest.skip(
        "brownie's venv .venv-brownie is absent: run `make brownie-setup`",
        allow_module_level=True,
    )

ZERO = b"\x00" * 32


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from make_env(tmp_path_factory.mktemp("statuses"))


def onboard(env: Env, code: str) -> tuple[int, str, str]:
    """A commune with fresh anchoring and status keys: (body id, anchoring key, status key)."""
    anchoring_key, anchoring = new_key()
    status_key, status = new_key()
    out = env.ok(
        "scripts/bodies.py", "onboard", "commune", f"code={code}", f"fr={code}", f"de={code}",
        f"en={code}", f"anchoring={anchoring}", f"status={status}", as_=REGISTRAR,
    )  # fmt: skip
    found = re.search(r"registered body (\d+)", out)
    assert found, out
    return int(found.group(1)), anchoring_key, status_key


def test_revocation_by_a_status_key_and_by_a_revoker_never_by_an_anchoring_key(env: Env) -> None:
    body_id, anchoring_key, status_key = onboard(env, "LU-A")
    other_id, other_anchoring_key, other_status_key = onboard(env, "LU-B")
    a, b = anchor(env, anchoring_key, 1), anchor(env, anchoring_key, 2)
    c = anchor(env, other_anchoring_key, 7)
    bundle = write(env.tmp / "a.json", a.bundle)
    registry = env.registry
    anchoring, status = (
        env.w3.eth.account.from_key(k).address for k in (anchoring_key, status_key)
    )

    env.fails(
        f"error: account {anchoring} is an anchoring key of body {body_id}; anchoring keys never "
        "change statuses: sign with the body's status key or a revoker's account.",
        "scripts/revoke.py", "document", str(body_id), bundle, "2", as_=anchoring_key,
    )  # fmt: skip
    env.fails(
        f"error: account {env.w3.eth.account.from_key(other_status_key).address} is a status key "
        f"of body {other_id}, not of body {body_id}, and lacks the revoker role.",
        "scripts/revoke.py", "document", str(body_id), bundle, "2", as_=other_status_key,
    )  # fmt: skip
    env.fails(
        f"error: the bundle {bundle} was anchored by key {anchoring} of body {body_id}, not of "
        f"body {other_id}.",
        "scripts/revoke.py", "document", str(other_id), bundle, "2", as_=REVOKER,
    )  # fmt: skip

    out = env.ok("scripts/revoke.py", "document", str(body_id), bundle, "2", as_=status_key)
    assert (
        f"revoked document leaf 0x{a.leaves[0].hex()} under root 0x{a.root.hex()} of body " in out
    )
    [change] = registry.history_of(body_id, a.root, a.leaves[0])
    assert (change.actor, change.reason, change.annulled) == (status, 2, False)
    assert registry.history_of(body_id, a.root, a.leaves[1]) == []
    env.fails(
        f"error: the document 0x{a.leaves[0].hex()} under root 0x{a.root.hex()} of body "
        f"{body_id} is already revoked (since {_iso(change.at)}).",
        "scripts/revoke.py", "document", str(body_id), bundle, "1", as_=REVOKER,
    )  # fmt: skip

    root_b = "0x" + b.root.hex()
    env.fails(
        f"error: body {other_id} has not anchored the root {root_b} on the registry "
        f"{env.manifest['address']}.",
        "scripts/revoke.py", "root", str(other_id), root_b, "3", as_=REVOKER,
    )  # fmt: skip
    out = env.ok("scripts/revoke.py", "root", str(body_id), root_b, "3", as_=REVOKER)
    assert f"revoked root {root_b} of body {body_id}: reason 3 (fraud)" in out
    [change] = registry.history_of(body_id, b.root, ZERO)
    assert (change.actor, change.reason) == (address(REVOKER), 3)
    env.ok("scripts/bodies.py", "suspend", str(other_id), as_=REGISTRAR)
    env.fails(
        f"error: body {other_id} is suspended; its keys cannot change statuses (a revoker still "
        "can).",
        "scripts/revoke.py", "root", str(other_id), "0x" + c.root.hex(), "1", as_=other_status_key,
    )  # fmt: skip
    out = env.ok("scripts/revoke.py", "history", str(body_id), root_b)
    assert f"#0 revoked reason 3 (fraud) at {_iso(change.at)} by {address(REVOKER)}" in out


def test_pause_stops_anchoring_but_not_revocation(env: Env) -> None:
    body_id, anchoring_key, _ = onboard(env, "LU-P")
    a = anchor(env, anchoring_key, 3)
    assert "paused registry" in env.ok("scripts/pause.py", "pause", as_=PAUSER)
    assert env.registry.paused()
    assert "paused (anchoring stops; status changes go on)" in env.ok("scripts/pause.py", "status")
    with pytest.raises(ContractCustomError):  # EnforcedPause
        anchor(env, anchoring_key, 4)
    out = env.ok("scripts/revoke.py", "root", str(body_id), "0x" + a.root.hex(), "4", as_=REVOKER)
    assert "revoked root" in out
    assert len(env.registry.history_of(body_id, a.root, ZERO)) == 1
    assert "already paused; nothing sent" in env.ok("scripts/pause.py", "pause", as_=PAUSER)
    assert "resumed registry" in env.ok("scripts/pause.py", "unpause", as_=PAUSER)
    assert not env.registry.paused()
    anchor(env, anchoring_key, 4)


def test_compromise_response(env: Env) -> None:
    """docs/operations.md, "A compromised key": mark compromised since T, add new keys, annul
    what the stolen status key changed after T; anchors from T on are not authorised."""
    body_id, anchoring_key, status_key = onboard(env, "LU-C")
    anchoring, status = (
        env.w3.eth.account.from_key(k).address for k in (anchoring_key, status_key)
    )
    before = anchor(env, anchoring_key, 5)
    first = write(env.tmp / "before.json", before.bundle)
    env.ok("scripts/revoke.py", "document", str(body_id), first, "4", as_=status_key)
    env.travel(60)
    t = env.now() + 1  # the next block: the thief's first transaction
    env.travel(1)
    after = anchor(env, anchoring_key, 6)  # the thief anchors
    assert env.registry.anchor_of(body_id, after.root).anchored_at >= t
    env.ok(
        "scripts/revoke.py", "root", str(body_id), "0x" + before.root.hex(), "3", as_=status_key
    )  # the thief revokes a good batch with the stolen status key

    for key in (anchoring, status):
        out = env.ok("scripts/keys.py", "compromise", key, _iso(t), as_=REGISTRAR)
        assert f"compromised since {_iso(t)}" in out
    _, new_anchoring = new_key()
    _, new_status = new_key()
    env.ok("scripts/keys.py", "add", str(body_id), new_anchoring, "anchoring", as_=REGISTRAR)
    env.ok("scripts/keys.py", "add", str(body_id), new_status, "status", as_=REGISTRAR)

    env.fails(  # the stolen status key can no longer change statuses
        f"error: key {status} is not valid now: it is compromised since {_iso(t)}.",
        "scripts/revoke.py", "root", str(body_id), "0x" + after.root.hex(), "3", as_=status_key,
    )  # fmt: skip
    out = env.ok("scripts/keys.py", "changes", status)
    assert f"key {status}: 2 status change(s)" in out
    assert re.search(rf"leaf 0x{before.leaves[0].hex()} #0 revoked at .*: counts", out)
    assert re.search(r"the root #0 revoked at .*: annullable", out)
    out = env.ok("scripts/keys.py", "annul_all", status, as_=REGISTRAR)
    assert f"annulled 1 status change(s) made by {status} since {_iso(t)}" in out
    registry = env.registry
    [root_change] = registry.history_of(body_id, before.root, ZERO)
    assert root_change.annulled  # the thief's revocation no longer counts
    [doc_change] = registry.history_of(body_id, before.root, before.leaves[0])
    assert not doc_change.annulled  # made before T: it stands
    env.fails(
        f"error: status change #0 of leaf 0x{before.leaves[0].hex()} under root "
        f"0x{before.root.hex()} of body {body_id}, made by {status} at {_iso(doc_change.at)}, "
        f"cannot be annulled: its key is marked compromised only since {_iso(t)}.",
        "scripts/keys.py", "annul", str(body_id), "0x" + before.root.hex(), "0",
        f"leaf=0x{before.leaves[0].hex()}", as_=REGISTRAR,
    )  # fmt: skip
    out = env.ok(
        "scripts/keys.py", "annul", str(body_id), "0x" + before.root.hex(), "0", as_=REGISTRAR
    )
    assert "already annulled; nothing sent" in out
    out = env.ok("scripts/revoke.py", "history", str(body_id), "0x" + before.root.hex())
    assert f"#0 revoked reason 3 (fraud) at {_iso(root_change.at)} by {status}  ANNULLED" in out

    # What the citizens' page reads: earlier anchors stay authorised, later ones are not.
    early = registry.status(anchoring, before.root, [before.leaves[1]], before.leaves[0])
    late = registry.status(anchoring, after.root, [after.leaves[1]], after.leaves[0])
    assert early.included and early.authorised
    assert late.included and not late.authorised
    assert early.root_status.kind == 0  # the annulled revocation does not count
    out = env.ok("scripts/bodies.py", "show", str(body_id))
    assert f"  key {anchoring}  anchoring  valid " in out and f"compromised since {_iso(t)}" in out


def test_a_documents_life_by_the_operator(env: Env) -> None:
    """scripts/status.py: suspend, lift, extend, supersede by a status key and a revoker; each
    refusal one sentence from the registry's state, nothing sent (the other refusals of the
    same `anchor.chain.lifecycle.refusal` are tested through the API, without brownie)."""
    body_id, anchoring_key, status_key = onboard(env, "LU-L")
    a, b, c = (anchor(env, anchoring_key, seed) for seed in (21, 22, 23))
    first, second, third = (
        write(env.tmp / f"{n}.json", x.bundle) for n, x in (("l1", a), ("l2", b), ("l3", c))
    )
    body, registry = str(body_id), env.registry
    status = env.w3.eth.account.from_key(status_key).address
    leaf = a.leaves[0]

    out = env.ok("scripts/status.py", "suspend", body, first, "1", as_=status_key)
    state = registry.document_state(body_id, a.root, leaf)
    assert (state.state, state.reason, state.actor) == (ChangeKind.SUSPENDED, 1, status)
    assert f"is now suspended since {_iso(state.since)} (1 change(s))" in out
    assert "reason 1 (suspended by a court)" in out
    env.fails(
        f"error: the document is suspended already (since {_iso(state.since)}); lift it first.",
        "scripts/status.py", "suspend", body, first, "2", as_=REVOKER,
    )  # fmt: skip
    env.ok("scripts/status.py", "lift", body, first, as_=REVOKER)
    assert registry.document_state(body_id, a.root, leaf).state == ChangeKind.NONE
    out = env.ok("scripts/status.py", "extend", body, first, "2031-01-31", as_=status_key)
    assert "valid through 2031-01-31" in out
    assert registry.document_state(body_id, a.root, leaf).valid_until == day_start(
        date(2031, 1, 31)
    )
    out = env.ok("scripts/status.py", "supersede", body, first, second, as_=status_key)
    state = registry.document_state(body_id, a.root, leaf)
    assert state.state == ChangeKind.SUPERSEDED and state.successor_leaf == b.leaves[0]
    assert f"by root 0x{b.root.hex()} leaf 0x{b.leaves[0].hex()}" in out
    env.fails(
        f"error: the document is superseded since {_iso(state.since)}; a superseded document "
        "cannot change any more.",
        "scripts/status.py", "revoke", body, first, "5", as_=REVOKER,
    )  # fmt: skip
    out = env.ok("scripts/status.py", "revoke", body, third, "5", as_=REVOKER)
    assert "reason 5 (annulled by a court)" in out
    assert registry.document_state(body_id, c.root, c.leaves[0]).state == ChangeKind.REVOKED
    out = env.ok("scripts/status.py", "show", body, first)
    for kind in ("suspended reason 1", "lifted reason 0", "extended reason 0", "superseded"):
        assert f"  {kind}" in out, out
    assert "(4 change(s))" in out


def _iso(t: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")
