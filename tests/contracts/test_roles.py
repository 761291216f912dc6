"""Roles on registry v2: every restricted function refuses every account without its role
(`AccessControlUnauthorizedAccount(account, role)`), the admin holds no other role, and
`AccessControlDefaultAdminRules`: a two-step admin transfer after a delay, its cancellation, and
the default admin role that cannot be granted, revoked or renounced in one step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractCustomError

from anchor.chain.registry import (
    DEFAULT_ADMIN_ROLE,
    PAUSER_ROLE,
    REGISTRAR_ROLE,
    REGISTRY_VERSION,
    REVOKER_ROLE,
    BodyStatus,
    Kind,
    Purpose,
    Registry,
    decode_revert,
    deploy_registry,
    load_artifact,
)
from anchor.merkle.hashing import keccak256
from tests.support.registry_v2 import (
    ZERO32,
    ZERO_ADDRESS,
    World,
    assert_logs,
    assert_mined_revert,
    assert_reverts,
    block_time,
    labelled_key,
    mine,
    rpc,
    send,
    set_next_time,
    unauthorized,
)

pytestmark = pytest.mark.chain

TWO_DAYS = 2 * 24 * 3600

#: Each restricted function, with valid arguments, and the role it needs.
RESTRICTED: list[tuple[str, bytes, Callable[[World], Any]]] = [
    (
        "registerBody",
        REGISTRAR_ROLE,
        lambda e: e.fns.registerBody(Kind.OTHER, "", ("x", "", "", "")),
    ),
    ("renameBody", REGISTRAR_ROLE, lambda e: e.fns.renameBody(1, ("x", "", "", ""), 0)),
    ("setBodyStatus", REGISTRAR_ROLE, lambda e: e.fns.setBodyStatus(1, BodyStatus.SUSPENDED)),
    (
        "addKey",
        REGISTRAR_ROLE,
        lambda e: e.fns.addKey(1, e.other.address, Purpose.ANCHORING, 0, 0),
    ),
    ("retireKey", REGISTRAR_ROLE, lambda e: e.fns.retireKey(e.bodies[0].anchoring.address)),
    (
        "setKeyCompromised",
        REGISTRAR_ROLE,
        lambda e: e.fns.setKeyCompromised(e.bodies[0].anchoring.address, 1),
    ),
    ("annulStatusChange", REGISTRAR_ROLE, lambda e: e.fns.annulStatusChange(1, ZERO32, ZERO32, 0)),
    ("pause", PAUSER_ROLE, lambda e: e.fns.pause()),
    ("grantRole", DEFAULT_ADMIN_ROLE, lambda e: e.fns.grantRole(REVOKER_ROLE, e.other.address)),
    ("revokeRole", DEFAULT_ADMIN_ROLE, lambda e: e.fns.revokeRole(REVOKER_ROLE, e.revoker.address)),
    (
        "beginDefaultAdminTransfer",
        DEFAULT_ADMIN_ROLE,
        lambda e: e.fns.beginDefaultAdminTransfer(e.other.address),
    ),
    (
        "cancelDefaultAdminTransfer",
        DEFAULT_ADMIN_ROLE,
        lambda e: e.fns.cancelDefaultAdminTransfer(),
    ),
    ("changeDefaultAdminDelay", DEFAULT_ADMIN_ROLE, lambda e: e.fns.changeDefaultAdminDelay(60)),
    ("rollbackDefaultAdminDelay", DEFAULT_ADMIN_ROLE, lambda e: e.fns.rollbackDefaultAdminDelay()),
]

HOLDER = {DEFAULT_ADMIN_ROLE: "admin", REGISTRAR_ROLE: "registrar", PAUSER_ROLE: "pauser"}


def _role_error(call: Any, by: str) -> tuple[str, tuple[Any, ...]] | None:
    """The AccessControl error of ``call`` from ``by``, or None when it passes the role check."""
    try:
        call.call({"from": by})
    except ContractCustomError as e:
        decoded = decode_revert(str(e.data))
        if decoded and decoded[0] == "AccessControlUnauthorizedAccount":
            return decoded
    return None


def _everyone(env: World) -> Iterator[tuple[str, LocalAccount]]:
    for name in ("admin", "registrar", "pauser", "revoker", "relayer", "other"):
        yield name, getattr(env, name)
    yield "an anchoring key", env.bodies[0].anchoring
    yield "a status key", env.bodies[0].status


@pytest.mark.parametrize(("fn", "role", "make"), RESTRICTED, ids=[r[0] for r in RESTRICTED])
def test_every_restricted_function_refuses_accounts_without_its_role(
    env: World, fn: str, role: bytes, make: Callable[[World], Any]
) -> None:
    call = make(env)
    refused = 0
    for name, account in _everyone(env):
        if name == HOLDER[role]:  # the holder passes the role check (the call may fail later)
            assert _role_error(call, account.address) is None
            continue
        try:
            assert_reverts(call, account.address, *unauthorized(account.address, role))
        except AssertionError as e:
            raise AssertionError(f"{fn} from {name}: {e}") from e
        refused += 1
    assert refused == 7


def test_unpause_refuses_accounts_without_the_pauser_role(env: World) -> None:
    send(env.w3, env.pauser, env.fns.pause())
    for name, account in _everyone(env):
        if name != "pauser":
            assert_reverts(
                env.fns.unpause(), account.address, *unauthorized(account.address, PAUSER_ROLE)
            )


def test_role_constants_and_admins(env: World) -> None:
    fns = env.fns
    assert fns.REGISTRAR_ROLE().call() == REGISTRAR_ROLE == keccak256(b"REGISTRAR_ROLE")
    assert fns.PAUSER_ROLE().call() == PAUSER_ROLE == keccak256(b"PAUSER_ROLE")
    assert fns.REVOKER_ROLE().call() == REVOKER_ROLE == keccak256(b"REVOKER_ROLE")
    assert fns.DEFAULT_ADMIN_ROLE().call() == DEFAULT_ADMIN_ROLE
    for role in (REGISTRAR_ROLE, PAUSER_ROLE, REVOKER_ROLE, DEFAULT_ADMIN_ROLE):
        assert fns.getRoleAdmin(role).call() == DEFAULT_ADMIN_ROLE
    assert env.registry.version() == REGISTRY_VERSION == "2.1.0"


def test_a_fresh_registry_admin_holds_no_other_role(w3: Web3, env: World) -> None:
    address, block = deploy_registry(w3, env.admin, admin=env.other.address, delay=TWO_DAYS)
    fresh = Registry(w3, address)
    (tx,) = cast(list[dict[str, Any]], w3.eth.get_block(block, True)["transactions"])
    receipt = dict(w3.eth.get_transaction_receipt(tx["hash"]))
    assert_logs(
        fresh.contract,
        receipt,
        (
            "RoleGranted",
            {"role": DEFAULT_ADMIN_ROLE, "account": env.other.address, "sender": env.admin.address},
        ),
    )
    fns = fresh.contract.functions
    assert fns.defaultAdmin().call() == fns.owner().call() == env.other.address
    assert fns.defaultAdminDelay().call() == TWO_DAYS
    assert tuple(fns.pendingDefaultAdmin().call()) == (ZERO_ADDRESS, 0)
    for role in (REGISTRAR_ROLE, PAUSER_ROLE, REVOKER_ROLE):
        assert not fresh.has_role(role, env.other.address)
    for account in (env.admin.address, env.other.address):
        assert not fresh.has_role(REGISTRAR_ROLE, account)
    assert not fresh.has_role(DEFAULT_ADMIN_ROLE, env.admin.address)
    assert fresh.body_count() == 0 and not fresh.paused()
    # So the admin alone can neither register, nor pause, nor revoke.
    by = env.other.address
    assert_reverts(
        fns.registerBody(Kind.COMMUNE, "", ("x", "", "", "")), by, *unauthorized(by, REGISTRAR_ROLE)
    )
    assert_reverts(fns.pause(), by, *unauthorized(by, PAUSER_ROLE))
    assert_reverts(fns.revokeRoot(1, ZERO32, 1), by, "RegistryUnauthorizedActor", by, 1)


def test_the_constructor_refuses_a_zero_admin(w3: Web3, env: World) -> None:
    artifact = load_artifact()
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    with pytest.raises(ContractCustomError) as caught:
        factory.constructor(0, ZERO_ADDRESS).estimate_gas({"from": env.admin.address})
    assert decode_revert(str(caught.value.data)) == (
        "AccessControlInvalidDefaultAdmin",
        (ZERO_ADDRESS,),
    )


def test_the_deployed_admin_holds_no_other_role(env: World) -> None:
    r = env.registry
    assert r.has_role(DEFAULT_ADMIN_ROLE, env.admin.address)
    for role in (REGISTRAR_ROLE, PAUSER_ROLE, REVOKER_ROLE):
        assert not r.has_role(role, env.admin.address)
    for role, holder in (
        (REGISTRAR_ROLE, env.registrar),
        (PAUSER_ROLE, env.pauser),
        (REVOKER_ROLE, env.revoker),
    ):
        assert r.has_role(role, holder.address)
        assert not r.has_role(DEFAULT_ADMIN_ROLE, holder.address)


def test_grant_and_revoke_a_role(env: World) -> None:
    fns = env.fns
    receipt = send(env.w3, env.admin, fns.grantRole(REVOKER_ROLE, env.other.address))
    grant = {"role": REVOKER_ROLE, "account": env.other.address, "sender": env.admin.address}
    assert_logs(env.contract, receipt, ("RoleGranted", grant))
    assert env.registry.has_role(REVOKER_ROLE, env.other.address)
    assert_logs(
        env.contract, send(env.w3, env.admin, fns.grantRole(REVOKER_ROLE, env.other.address))
    )
    receipt = send(env.w3, env.admin, fns.revokeRole(REVOKER_ROLE, env.other.address))
    assert_logs(env.contract, receipt, ("RoleRevoked", grant))
    assert not env.registry.has_role(REVOKER_ROLE, env.other.address)
    # A holder may renounce its own role, nobody else's.
    assert_reverts(
        fns.renounceRole(REVOKER_ROLE, env.revoker.address),
        env.other.address,
        "AccessControlBadConfirmation",
    )
    receipt = send(env.w3, env.revoker, fns.renounceRole(REVOKER_ROLE, env.revoker.address))
    assert_logs(
        env.contract,
        receipt,
        (
            "RoleRevoked",
            {"role": REVOKER_ROLE, "account": env.revoker.address, "sender": env.revoker.address},
        ),
    )


def test_the_default_admin_role_moves_only_in_two_steps(env: World) -> None:
    fns = env.fns
    by = env.admin.address
    for call in (
        fns.grantRole(DEFAULT_ADMIN_ROLE, env.other.address),
        fns.revokeRole(DEFAULT_ADMIN_ROLE, env.admin.address),
    ):
        assert_reverts(call, by, "AccessControlEnforcedDefaultAdminRules")
    assert_reverts(
        fns.renounceRole(DEFAULT_ADMIN_ROLE, env.admin.address),
        by,
        "AccessControlEnforcedDefaultAdminDelay",
        0,
    )


@pytest.fixture
def delayed(w3: Web3, env: World) -> Registry:
    """A registry whose admin transfer waits two days."""
    address, _ = deploy_registry(w3, env.admin, delay=TWO_DAYS)
    return Registry(w3, address)


def test_two_step_admin_transfer_after_the_delay(w3: Web3, env: World, delayed: Registry) -> None:
    fns = delayed.contract.functions
    new_admin = labelled_key(w3, "new-admin")
    receipt = send(w3, env.admin, fns.beginDefaultAdminTransfer(new_admin.address))
    schedule = block_time(w3, receipt) + TWO_DAYS
    assert_logs(
        delayed.contract,
        receipt,
        (
            "DefaultAdminTransferScheduled",
            {"newAdmin": new_admin.address, "acceptSchedule": schedule},
        ),
    )
    assert tuple(fns.pendingDefaultAdmin().call()) == (new_admin.address, schedule)
    # Too early, or by anyone else: refused.
    assert_reverts(
        fns.acceptDefaultAdminTransfer(),
        new_admin.address,
        "AccessControlEnforcedDefaultAdminDelay",
        schedule,
    )
    for account in (env.other, env.admin):
        assert_reverts(
            fns.acceptDefaultAdminTransfer(),
            account.address,
            "AccessControlInvalidDefaultAdmin",
            account.address,
        )
    # The schedule must have passed, strictly: at its very second the transfer still waits.
    set_next_time(w3, schedule)
    receipt = send(w3, new_admin, fns.acceptDefaultAdminTransfer(), expect_success=False)
    assert_mined_revert(w3, receipt, "AccessControlEnforcedDefaultAdminDelay", schedule)
    rpc(w3, "evm_increaseTime", [1])
    rpc(w3, "evm_mine")
    receipt = send(w3, new_admin, fns.acceptDefaultAdminTransfer())
    assert_logs(
        delayed.contract,
        receipt,
        (
            "RoleRevoked",
            {"role": DEFAULT_ADMIN_ROLE, "account": env.admin.address, "sender": new_admin.address},
        ),
        (
            "RoleGranted",
            {"role": DEFAULT_ADMIN_ROLE, "account": new_admin.address, "sender": new_admin.address},
        ),
    )
    assert fns.defaultAdmin().call() == new_admin.address
    assert tuple(fns.pendingDefaultAdmin().call()) == (ZERO_ADDRESS, 0)
    assert not delayed.has_role(DEFAULT_ADMIN_ROLE, env.admin.address)
    # The new admin has no other role either; the old one can no longer grant.
    for role in (REGISTRAR_ROLE, PAUSER_ROLE, REVOKER_ROLE):
        assert not delayed.has_role(role, new_admin.address)
    assert_reverts(
        fns.grantRole(REGISTRAR_ROLE, env.admin.address),
        env.admin.address,
        *unauthorized(env.admin.address, DEFAULT_ADMIN_ROLE),
    )
    send(w3, new_admin, fns.grantRole(REGISTRAR_ROLE, env.registrar.address))
    assert delayed.has_role(REGISTRAR_ROLE, env.registrar.address)


def test_cancel_an_admin_transfer(w3: Web3, env: World, delayed: Registry) -> None:
    fns = delayed.contract.functions
    send(w3, env.admin, fns.beginDefaultAdminTransfer(env.other.address))
    receipt = send(w3, env.admin, fns.cancelDefaultAdminTransfer())
    assert_logs(delayed.contract, receipt, ("DefaultAdminTransferCanceled", {}))
    assert tuple(fns.pendingDefaultAdmin().call()) == (ZERO_ADDRESS, 0)
    rpc(w3, "evm_increaseTime", [TWO_DAYS + 1])
    rpc(w3, "evm_mine")
    assert_reverts(
        fns.acceptDefaultAdminTransfer(),
        env.other.address,
        "AccessControlInvalidDefaultAdmin",
        env.other.address,
    )
    assert fns.defaultAdmin().call() == env.admin.address
    # A second begin replaces the first, and cancels it with an event.
    send(w3, env.admin, fns.beginDefaultAdminTransfer(env.other.address))
    receipt = send(w3, env.admin, fns.beginDefaultAdminTransfer(env.revoker.address))
    schedule = block_time(w3, receipt) + TWO_DAYS
    assert_logs(
        delayed.contract,
        receipt,
        ("DefaultAdminTransferCanceled", {}),
        (
            "DefaultAdminTransferScheduled",
            {"newAdmin": env.revoker.address, "acceptSchedule": schedule},
        ),
    )


def test_change_the_admin_delay(w3: Web3, env: World, delayed: Registry) -> None:
    fns = delayed.contract.functions
    receipt = send(w3, env.admin, fns.changeDefaultAdminDelay(TWO_DAYS + 3600))
    t = block_time(w3, receipt)
    wait = fns.defaultAdminDelayIncreaseWait().call()
    effect = t + min(TWO_DAYS + 3600, wait)
    assert_logs(
        delayed.contract,
        receipt,
        (
            "DefaultAdminDelayChangeScheduled",
            {"newDelay": TWO_DAYS + 3600, "effectSchedule": effect},
        ),
    )
    assert tuple(fns.pendingDefaultAdminDelay().call()) == (TWO_DAYS + 3600, effect)
    assert fns.defaultAdminDelay().call() == TWO_DAYS
    mine(w3, effect - t)  # at the effect time, the old delay still holds
    assert fns.defaultAdminDelay().call() == TWO_DAYS
    mine(w3, 1)
    assert fns.defaultAdminDelay().call() == TWO_DAYS + 3600


def test_rollback_a_pending_delay_change(w3: Web3, env: World, delayed: Registry) -> None:
    fns = delayed.contract.functions
    send(w3, env.admin, fns.changeDefaultAdminDelay(3600))
    receipt = send(w3, env.admin, fns.rollbackDefaultAdminDelay())
    assert_logs(delayed.contract, receipt, ("DefaultAdminDelayChangeCanceled", {}))
    assert tuple(fns.pendingDefaultAdminDelay().call()) == (0, 0)
    assert fns.defaultAdminDelay().call() == TWO_DAYS


def _interface_id(*signatures: str) -> bytes:
    value = 0
    for signature in signatures:
        value ^= int.from_bytes(Web3.keccak(text=signature)[:4], "big")
    return value.to_bytes(4, "big")


def test_supported_interfaces(env: World) -> None:
    supports = env.fns.supportsInterface
    access_control = _interface_id(
        "hasRole(bytes32,address)",
        "getRoleAdmin(bytes32)",
        "grantRole(bytes32,address)",
        "revokeRole(bytes32,address)",
        "renounceRole(bytes32,address)",
    )
    default_admin_rules = _interface_id(
        "defaultAdmin()",
        "pendingDefaultAdmin()",
        "defaultAdminDelay()",
        "pendingDefaultAdminDelay()",
        "beginDefaultAdminTransfer(address)",
        "cancelDefaultAdminTransfer()",
        "acceptDefaultAdminTransfer()",
        "changeDefaultAdminDelay(uint48)",
        "rollbackDefaultAdminDelay()",
        "defaultAdminDelayIncreaseWait()",
    )
    erc165 = _interface_id("supportsInterface(bytes4)")
    for interface in (access_control, default_admin_rules, erc165):
        assert supports(interface).call() is True
    assert supports(b"\xff\xff\xff\xff").call() is False
