"""Onboarding a body on a registry: ``registerBody`` and ``addKey`` for its keys.

This is the registrar's job. In production the registrar runs the brownie script
(``scripts/issuers.py onboard``) from their own workstation; `onboard_body` is the same three
transactions for ``anchor up``'s development chain, where the deployer is the registrar, and for
tests. It signs with any `anchor.chain.signer.Signer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from web3 import Web3
from web3.exceptions import Web3Exception
from web3.logs import DISCARD

from anchor.chain.fees import fee_fields
from anchor.chain.registry import Registry
from anchor.chain.signer import Signer
from anchor.errors import ChainError

__all__ = ["onboard_body"]


def _send(w3: Web3, signer: Signer, call: Any) -> Any:
    tx = call.build_transaction(
        {
            "from": signer.address,
            "nonce": w3.eth.get_transaction_count(signer.address, "pending"),
            **fee_fields(w3),
        }
    )
    try:
        signed = signer.sign_transaction(tx)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
    except (Web3Exception, OSError, ValueError) as e:
        raise ChainError(f"onboarding transaction failed: {e}") from e
    if receipt["status"] != 1:
        raise ChainError(f"onboarding transaction {tx_hash.hex()} reverted")
    return receipt


def onboard_body(
    w3: Web3,
    registrar: Signer,
    registry: Registry,
    kind: int,
    code: str,
    names: tuple[str, str, str, str],
    keys: Sequence[tuple[str, int]],
) -> int:
    """Register a body (``kind`` and key purposes as the registry's enum numbers; ``names`` as
    fr, de, en, lb, empty when unknown) and its ``keys`` (address, purpose), valid from now on
    with no end; return its body id."""
    receipt = _send(w3, registrar, registry.contract.functions.registerBody(kind, code, names))
    events = registry.contract.events.BodyRegistered().process_receipt(receipt, errors=DISCARD)
    if not events:
        raise ChainError("registerBody emitted no BodyRegistered event")
    body_id = int(events[0]["args"]["bodyId"])
    for address, purpose in keys:
        call = registry.contract.functions.addKey(
            body_id, Web3.to_checksum_address(address), purpose, 0, 0
        )
        _send(w3, registrar, call)
    return body_id
