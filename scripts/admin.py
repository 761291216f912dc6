"""Govern the registry: the admin's two-step transfer and delay, and the other roles.

    brownie run scripts/admin.py show --network NETWORK
    brownie run scripts/admin.py begin_transfer NEW_ADMIN --network NETWORK
    brownie run scripts/admin.py accept_transfer --network NETWORK
    brownie run scripts/admin.py cancel_transfer --network NETWORK
    brownie run scripts/admin.py change_delay SECONDS --network NETWORK
    brownie run scripts/admin.py rollback_delay --network NETWORK
    brownie run scripts/admin.py grant ROLE ADDRESS --network NETWORK
    brownie run scripts/admin.py revoke ROLE ADDRESS --network NETWORK
    brownie run scripts/admin.py help

The admin (DEFAULT_ADMIN_ROLE, OpenZeppelin AccessControlDefaultAdminRules) is one account. It
moves in two steps: the admin signs begin_transfer; once the admin delay has passed, the new
admin signs accept_transfer (before that: "the admin transfer can be accepted from <time>").
Until then the admin may cancel_transfer. change_delay schedules a new delay (it takes effect
later, as OpenZeppelin's rules say; show prints when); rollback_delay cancels that change.

ROLE is registrar, pauser or revoker; grant and revoke are signed by the admin. show prints the
admin, the delay, a pending transfer or delay change, and every account that held a role since
the deployment (former ones marked). The signing account is ANCHOR_BROWNIE_ACCOUNT or
ANCHOR_DEPLOYER_KEY (accounts[0] on development); the registry is deployments/<network>.json's.
"""

from __future__ import annotations

from typing import Any

from scripts import _args, _chain, _common
from scripts._common import OperatorError, command

USAGE = __doc__ or ""
_LOG_CHUNK = 5_000
_GRANTABLE = ("registrar", "pauser", "revoker")


def help() -> None:
    """Print the usage."""
    print(USAGE)


def main() -> None:
    """Without a function name: print the usage."""
    print(USAGE)


@command
def show() -> None:
    """Print the admin, its delay, pending changes, and every role holder."""
    manifest = _common.load_manifest()
    contract = _common.registry(manifest)
    print(f"registry {contract.address} on chain {manifest['chainId']}")
    print(f"admin             {contract.defaultAdmin()}")
    print(f"admin delay       {_seconds(int(contract.defaultAdminDelay()))}")
    pending, schedule = contract.pendingDefaultAdmin()
    if int(schedule):
        print(f"pending admin     {pending}  can accept from {_args.iso(int(schedule) + 1)}")
    new_delay, delay_at = contract.pendingDefaultAdminDelay()
    if int(delay_at):
        print(f"pending delay     {_seconds(int(new_delay))}  from {_args.iso(int(delay_at))}")
    for role, account, current in _members(contract, manifest):
        if role != "admin" or not current:  # the current admin is the first line
            print(f"{role if current else role + ' (former)':<17} {account}")


@command
def begin_transfer(new_admin: str) -> None:
    """Begin the transfer of the admin role to ``new_admin`` (signed by the admin)."""
    account = _args.parse_address(new_admin, "new admin")
    contract, admin = _common.prepare("admin")
    if account == admin.address:
        raise OperatorError(f"{account} is already the admin.")
    _chain.send(contract, "beginDefaultAdminTransfer", (account,), admin)
    _, schedule = contract.pendingDefaultAdmin()
    print(
        f"admin transfer to {account} begun; {account} can accept it from "
        f"{_args.iso(int(schedule) + 1)} (admin.py accept_transfer, signed by {account})"
    )


@command
def accept_transfer() -> None:
    """Accept a pending admin transfer (signed by the new admin, after the delay)."""
    contract = _common.registry(_common.load_manifest())
    signer = _common.operator_account()
    pending, schedule = contract.pendingDefaultAdmin()
    if int(schedule) == 0:
        raise OperatorError("no admin transfer is pending (admin.py show).")
    if pending != signer.address:
        raise OperatorError(
            f"account {signer.address} is not the pending admin {pending}: sign with {pending}."
        )
    _chain.send(contract, "acceptDefaultAdminTransfer", (), signer)
    print(f"{signer.address} is now the admin of the registry {contract.address}")


@command
def cancel_transfer() -> None:
    """Cancel a pending admin transfer (signed by the admin)."""
    contract, admin = _common.prepare("admin")
    pending, schedule = contract.pendingDefaultAdmin()
    if int(schedule) == 0:
        print("no admin transfer is pending; nothing sent")
        return
    _chain.send(contract, "cancelDefaultAdminTransfer", (), admin)
    print(f"cancelled the admin transfer to {pending}")


@command
def change_delay(seconds: str) -> None:
    """Schedule a new admin delay of ``seconds`` (signed by the admin)."""
    delay = _args.parse_count(seconds, "delay", high=2**48 - 1)
    contract, admin = _common.prepare("admin")
    _chain.send(contract, "changeDefaultAdminDelay", (delay,), admin)
    _, at = contract.pendingDefaultAdminDelay()
    print(f"the admin delay becomes {_seconds(delay)} at {_args.iso(int(at))}")


@command
def rollback_delay() -> None:
    """Cancel a scheduled change of the admin delay (signed by the admin)."""
    contract, admin = _common.prepare("admin")
    _, at = contract.pendingDefaultAdminDelay()
    if int(at) == 0:
        print("no change of the admin delay is pending; nothing sent")
        return
    _chain.send(contract, "rollbackDefaultAdminDelay", (), admin)
    print(f"the admin delay stays {_seconds(int(contract.defaultAdminDelay()))}")


@command
def grant(role: str, address: str) -> None:
    """Grant ``role`` (registrar, pauser, revoker) to ``address``."""
    role_id = _grantable(role)
    account = _args.parse_address(address)
    contract, admin = _common.prepare("admin")
    if contract.hasRole(role_id, account):
        print(f"{account} already holds the {role} role; nothing sent")
        return
    _chain.send(contract, "grantRole", (role_id, account), admin)
    print(f"granted {role} to {account}")


@command
def revoke(role: str, address: str) -> None:
    """Revoke ``role`` (registrar, pauser, revoker) from ``address``."""
    role_id = _grantable(role)
    account = _args.parse_address(address)
    contract, admin = _common.prepare("admin")
    if not contract.hasRole(role_id, account):
        print(f"{account} does not hold the {role} role; nothing sent")
        return
    _chain.send(contract, "revokeRole", (role_id, account), admin)
    print(f"revoked {role} from {account}")


def _grantable(role: str) -> str:
    role_id = _common.role_id(role)
    if str(role).strip().lower() == "admin":
        raise OperatorError(
            "the admin role moves only by the two-step transfer: admin.py begin_transfer, then "
            "accept_transfer by the new admin after the delay."
        )
    return role_id


def _seconds(delay: int) -> str:
    days, rest = divmod(delay, 86_400)
    return f"{delay} s" + (f" ({days} d {rest // 3600} h)" if days else "")


def _members(contract: Any, manifest: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """Return (role, account, current) for every account that ever held a role, admin first."""
    from brownie import web3

    names = {_common.role_id(r): r for r in _common.ROLE_NAMES}
    granted, revoked = (
        "0x" + web3.keccak(text=f"{e}(bytes32,address,address)").hex().removeprefix("0x")
        for e in ("RoleGranted", "RoleRevoked")
    )
    start, head = int(manifest["deploymentBlock"]), web3.eth.block_number
    held: dict[tuple[str, str], bool] = {}
    while start <= head:
        end = min(start + _LOG_CHUNK - 1, head)
        logs = web3.eth.get_logs(
            {
                "address": contract.address,
                "fromBlock": start,
                "toBlock": end,
                "topics": [[granted, revoked]],
            }
        )
        for log in sorted(logs, key=lambda x: (x["blockNumber"], x["logIndex"])):
            topics = ["0x" + bytes(t).hex() for t in log["topics"]]
            role = names.get(topics[1])
            if role is not None:
                account = web3.to_checksum_address("0x" + topics[2][-40:])
                held[(role, account)] = topics[0] == granted
        start = end + 1
    order = {name: i for i, name in enumerate(_common.ROLE_NAMES)}
    return sorted(
        ((role, account, current) for (role, account), current in held.items()),
        key=lambda m: (order[m[0]], not m[2]),
    )


_common.check_function(
    __file__,
    (
        "main", "help", "show", "begin_transfer", "accept_transfer", "cancel_transfer",
        "change_delay", "rollback_delay", "grant", "revoke",
    ),
    USAGE,
)  # fmt: skip
