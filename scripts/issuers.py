"""Grant and revoke roles on the registry, name issuers, and list who holds which role.

    brownie run scripts/issuers.py grant ROLE ADDRESS --network NETWORK
    brownie run scripts/issuers.py revoke ROLE ADDRESS --network NETWORK
    brownie run scripts/issuers.py name ADDRESS "Commune de Contern" --network NETWORK
    brownie run scripts/issuers.py list --network NETWORK
    brownie run scripts/issuers.py help

ROLE is issuer, revoker or admin. grant, revoke and name are signed by the operator account
(ANCHOR_BROWNIE_ACCOUNT or ANCHOR_DEPLOYER_KEY; accounts[0] on development), which must hold
the admin role. The registry is the one of deployments/<network>.json. list replays the
RoleGranted and RoleRevoked events since the deployment block and prints every admin, issuer
and revoker with the issuer's display name and its terms (the periods it held the role, which
verifiers use to tell whether an anchor was authorised); former issuers are listed too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scripts import _common
from scripts._common import OperatorError, command

USAGE = __doc__ or ""
_LOG_CHUNK = 5_000


def help() -> None:
    """Print the usage."""
    print(USAGE)


def main() -> None:
    """Without a function name: print the usage."""
    print(USAGE)


@command
def grant(role: str, address: str) -> None:
    """Grant ``role`` (issuer, revoker, admin) to ``address``."""
    role_id = _common.role_id(role)
    account = _common.parse_address(address)
    contract, operator = _prepare()
    if contract.hasRole(role_id, account):
        print(f"{account} already holds the {role} role; nothing sent")
        return
    contract.grantRole(role_id, account, _common.tx(operator))
    print(f"granted {role} to {account}")


@command
def revoke(role: str, address: str) -> None:
    """Revoke ``role`` from ``address``; the last admin is never revoked."""
    role_id = _common.role_id(role)
    account = _common.parse_address(address)
    contract, operator = _prepare()
    if not contract.hasRole(role_id, account):
        print(f"{account} does not hold the {role} role; nothing sent")
        return
    if role.strip().lower() == "admin":
        admins = [a for r, a, _ in _members(contract, _common.load_manifest()) if r == "admin"]
        if admins == [account]:
            raise OperatorError(
                f"refusing to revoke the last admin {account}: grant another first."
            )
    contract.revokeRole(role_id, account, _common.tx(operator))
    print(f"revoked {role} from {account}")


@command
def name(address: str, text: str) -> None:
    """Set the display name of an issuer ("" clears it)."""
    account = _common.parse_address(address)
    text = str(text).strip()
    if len(text.encode()) > 200:
        raise OperatorError(f"the name {text[:40]!r}... is longer than 200 bytes.")
    contract, operator = _prepare()
    contract.setIssuerName(account, text, _common.tx(operator))
    print(f"named {account} {text!r}")


@command
def list() -> None:
    """Print every admin, issuer and revoker, with names and issuer terms."""
    manifest = _common.load_manifest()
    contract = _common.registry(manifest)
    members = _members(contract, manifest)
    print(f"registry {contract.address} on chain {manifest['chainId']}")
    for role, account, current in members:
        shown = role if current else f"{role} (former)"
        line = f"{shown:<17} {account}"
        if role == "issuer":
            label = contract.issuerName(account)
            terms = ", ".join(_term(since, until) for since, until in contract.issuerTerms(account))
            line += f"  name={label!r}  terms={terms}"
        print(line)


def _prepare() -> tuple[Any, Any]:
    manifest = _common.load_manifest()
    contract = _common.registry(manifest)
    operator = _common.operator_account()
    _common.require_role(contract, "admin", operator)
    return contract, operator


def _members(contract: Any, manifest: dict[str, Any]) -> Any:
    """Return (role, account, current) for every account that ever held a role, in grant order."""
    from brownie import web3

    names = {_common.role_id(r): r for r in _common.ROLE_NAMES}
    granted = "0x" + web3.keccak(text="RoleGranted(bytes32,address,address)").hex().removeprefix(
        "0x"
    )
    revoked = "0x" + web3.keccak(text="RoleRevoked(bytes32,address,address)").hex().removeprefix(
        "0x"
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
            if role is None:
                continue
            account = web3.to_checksum_address("0x" + topics[2][-40:])
            held[(role, account)] = topics[0] == granted
        start = end + 1
    order = {"admin": 0, "issuer": 1, "revoker": 2}
    return sorted(
        ((role, account, current) for (role, account), current in held.items()),
        key=lambda m: (order[m[0]], not m[2]),
    )


def _term(since: int, until: int) -> str:
    def iso(t: int) -> str:
        return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")

    return f"{iso(since)}..{iso(until) if until else 'now'}"


_common.check_function(__file__, ("main", "help", "grant", "revoke", "name", "list"), USAGE)
