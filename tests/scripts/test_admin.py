"""`scripts/admin.py` end to end: roles, and the admin's two-step transfer with its 2-day delay
(the chain's clock moved with anvil's `evm_increaseTime`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from anchor.chain.registry import REGISTRAR_ROLE
from tests.scripts.support import (
    ADMIN,
    OUTSIDER,
    PAUSER,
    REGISTRAR,
    REVOKER,
    Env,
    address,
    brownie_available,
    make_env,
)

pytestmark = [pytest.mark.brownie, pytest.mark.chain]

if not brownie_available():
    pytest.skip(
        "brownie's venv .venv-brownie is absent: run `make brownie-setup`",
        allow_module_level=True,
    )

NEW_ADMIN, SECOND_REGISTRAR = 4, 5
DELAY = 172_800


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from make_env(tmp_path_factory.mktemp("admin"))


def test_show_and_roles(env: Env) -> None:
    out = env.ok("scripts/admin.py", "show")
    assert f"admin             {address(ADMIN)}" in out
    assert "admin delay       172800 s (2 d 0 h)" in out
    for role, index in (("registrar", REGISTRAR), ("pauser", PAUSER), ("revoker", REVOKER)):
        assert f"{role:<17} {address(index)}" in out
    assert "pending" not in out

    second = address(SECOND_REGISTRAR)
    assert f"granted registrar to {second}" in env.ok(
        "scripts/admin.py", "grant", "registrar", second
    )
    assert env.registry.has_role(REGISTRAR_ROLE, second)
    out = env.ok("scripts/admin.py", "grant", "registrar", second)
    assert f"{second} already holds the registrar role; nothing sent" in out
    assert f"revoked registrar from {second}" in env.ok(
        "scripts/admin.py", "revoke", "registrar", second
    )
    assert not env.registry.has_role(REGISTRAR_ROLE, second)
    assert f"registrar (former) {second}" in env.ok("scripts/admin.py", "show")

    env.fails(
        "error: the admin role moves only by the two-step transfer: admin.py begin_transfer, "
        "then accept_transfer by the new admin after the delay.",
        "scripts/admin.py", "grant", "admin", second,
    )  # fmt: skip
    env.fails(
        f"error: account {address(REGISTRAR)} lacks the admin role on the registry at "
        f"{env.manifest['address']}.",
        "scripts/admin.py", "grant", "revoker", second, as_=REGISTRAR,
    )  # fmt: skip


def test_two_step_admin_transfer_with_a_delay(env: Env) -> None:
    new, contract = address(NEW_ADMIN), env.registry.contract
    out = env.ok("scripts/admin.py", "begin_transfer", new)
    pending, schedule = contract.functions.pendingDefaultAdmin().call()
    assert pending == new and schedule >= env.now() + DELAY - 5
    assert f"admin transfer to {new} begun; {new} can accept it from {_iso(schedule + 1)}" in out
    assert f"pending admin     {new}  can accept from {_iso(schedule + 1)}" in env.ok(
        "scripts/admin.py", "show"
    )

    early = f"error: the admin transfer can be accepted from {_iso(schedule + 1)}."
    env.fails(early, "scripts/admin.py", "accept_transfer", as_=NEW_ADMIN)
    env.fails(
        f"error: account {address(OUTSIDER)} is not the pending admin {new}: sign with {new}.",
        "scripts/admin.py", "accept_transfer", as_=OUTSIDER,
    )  # fmt: skip

    # Cancelled, then begun again: the delay starts over.
    assert f"cancelled the admin transfer to {new}" in env.ok("scripts/admin.py", "cancel_transfer")
    env.fails(
        "error: no admin transfer is pending (admin.py show).",
        "scripts/admin.py", "accept_transfer", as_=NEW_ADMIN,
    )  # fmt: skip
    assert "no admin transfer is pending; nothing sent" in env.ok(
        "scripts/admin.py", "cancel_transfer"
    )
    env.ok("scripts/admin.py", "begin_transfer", new)
    _, schedule = contract.functions.pendingDefaultAdmin().call()

    env.travel(DELAY - 600)
    env.fails(
        f"error: the admin transfer can be accepted from {_iso(schedule + 1)}.",
        "scripts/admin.py", "accept_transfer", as_=NEW_ADMIN,
    )  # fmt: skip
    env.travel(601)
    out = env.ok("scripts/admin.py", "accept_transfer", as_=NEW_ADMIN)
    assert f"{new} is now the admin of the registry" in out
    assert contract.functions.defaultAdmin().call() == new
    out = env.ok("scripts/admin.py", "show")
    assert f"admin             {new}" in out
    assert f"admin (former)    {address(ADMIN)}" in out
    assert "pending admin" not in out
    env.fails(
        f"error: account {address(ADMIN)} lacks the admin role on the registry at "
        f"{env.manifest['address']}.",
        "scripts/admin.py", "grant", "pauser", address(OUTSIDER), as_=ADMIN,
    )  # fmt: skip


def test_change_and_roll_back_the_delay(env: Env) -> None:
    contract = env.registry.contract
    admin = NEW_ADMIN if contract.functions.defaultAdmin().call() == address(NEW_ADMIN) else ADMIN
    out = env.ok("scripts/admin.py", "change_delay", "3600", as_=admin)
    new_delay, at = contract.functions.pendingDefaultAdminDelay().call()
    assert new_delay == 3600
    assert f"the admin delay becomes 3600 s at {_iso(at)}" in out
    assert f"pending delay     3600 s  from {_iso(at)}" in env.ok("scripts/admin.py", "show")
    assert "the admin delay stays 172800 s" in env.ok(
        "scripts/admin.py", "rollback_delay", as_=admin
    )
    assert tuple(contract.functions.pendingDefaultAdminDelay().call()) == (0, 0)
    env.fails(
        "error: delay '2d' is not a whole number from 0 to 281474976710655.",
        "scripts/admin.py", "change_delay", "2d", as_=admin,
    )  # fmt: skip


def _iso(t: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")
