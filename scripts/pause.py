"""Pause or resume anchoring on the registry; status changes and reads never pause.

    brownie run scripts/pause.py pause --network NETWORK
    brownie run scripts/pause.py unpause --network NETWORK
    brownie run scripts/pause.py status --network NETWORK
    brownie run scripts/pause.py help

pause and unpause are signed by the operator account (ANCHOR_BROWNIE_ACCOUNT or
ANCHOR_DEPLOYER_KEY; accounts[0] on development), which must hold the pauser role (PAUSER_ROLE;
the admin holds it only if it was granted). While the registry is paused no root is anchored
(directly or relayed): the anchoring service keeps its batches until the registry is resumed.
Revocations by revokers and bodies' status keys, annulments by the registrar, and verification
go on.
"""

from __future__ import annotations

from scripts import _chain, _common
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
    """Pause anchoring."""
    contract, operator = _common.prepare("pauser")
    if contract.paused():
        print(f"registry {contract.address} is already paused; nothing sent")
        return
    _chain.send(contract, "pause", (), operator)
    print(f"paused registry {contract.address}")


@command
def unpause() -> None:
    """Resume anchoring."""
    contract, operator = _common.prepare("pauser")
    if not contract.paused():
        print(f"registry {contract.address} is not paused; nothing sent")
        return
    _chain.send(contract, "unpause", (), operator)
    print(f"resumed registry {contract.address}")


@command
def status() -> None:
    """Print whether the registry is paused."""
    manifest = _common.load_manifest()
    contract = _common.registry(manifest)
    state = "paused (anchoring stops; status changes go on)" if contract.paused() else "active"
    print(f"registry {contract.address} on chain {manifest['chainId']}: {state}")


_common.check_function(__file__, ("main", "help", "pause", "unpause", "status"), USAGE)
