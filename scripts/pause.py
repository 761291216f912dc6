"""Pause or resume anchoring and revocation on the registry; reads never pause.

    brownie run scripts/pause.py pause --network NETWORK
    brownie run scripts/pause.py unpause --network NETWORK
    brownie run scripts/pause.py status --network NETWORK
    brownie run scripts/pause.py help

pause and unpause are signed by the operator account (ANCHOR_BROWNIE_ACCOUNT or
ANCHOR_DEPLOYER_KEY; accounts[0] on development), which must hold the admin role. While the
registry is paused the anchoring service's submissions revert and it keeps its batches until
the registry is resumed; verification goes on.
"""

from __future__ import annotations

from typing import Any

from scripts import _common
from scripts._common import command

USAGE = __doc__ or ""


def help() -> None:
    """Print the usage."""
    print(USAGE)


def main() -> None:
    """Without a function name: print the usage."""
    print(USAGE)


@command
def pause() -> None:
    """Pause anchoring and revocation."""
    contract, operator = _prepare()
    if contract.paused():
        print(f"registry {contract.address} is already paused; nothing sent")
        return
    contract.pause(_common.tx(operator))
    print(f"paused registry {contract.address}")


@command
def unpause() -> None:
    """Resume anchoring and revocation."""
    contract, operator = _prepare()
    if not contract.paused():
        print(f"registry {contract.address} is not paused; nothing sent")
        return
    contract.unpause(_common.tx(operator))
    print(f"resumed registry {contract.address}")


@command
def status() -> None:
    """Print whether the registry is paused."""
    manifest = _common.load_manifest()
    contract = _common.registry(manifest)
    state = "paused" if contract.paused() else "active"
    print(f"registry {contract.address} on chain {manifest['chainId']}: {state}")


def _prepare() -> tuple[Any, Any]:
    contract = _common.registry(_common.load_manifest())
    operator = _common.operator_account()
    _common.require_role(contract, "admin", operator)
    return contract, operator


_common.check_function(__file__, ("main", "help", "pause", "unpause", "status"), USAGE)
