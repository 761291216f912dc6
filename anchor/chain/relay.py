"""Relayed anchors and stored transactions: what the submitter signs and sends again.

`sign_relayed_anchor` signs one body's EIP-712 ``Anchor`` with that body's `Signer` (the typed
data and the EIP-2098 packing come from the binding, `anchor.chain.eip712`), as
``anchorSigned(deadline, anchors)`` takes it. `call_of` reads the call data and gas limit back
out of a signed raw transaction of the outbox, so that a fee bump sends exactly the same call.
"""

from __future__ import annotations

import rlp  # type: ignore[import-untyped]
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from hexbytes import HexBytes

from anchor.chain.eip712 import SignedAnchor, anchor_typed_data, compact
from anchor.chain.signer import Signer

__all__ = ["call_of", "sign_relayed_anchor"]


def sign_relayed_anchor(
    signer: Signer,
    chain_id: int,
    registry: str,
    root: bytes,
    leaf_count: int,
    relayer: str,
    deadline: int,
) -> SignedAnchor:
    """The body's signature over ``Anchor(root, leafCount, relayer, deadline)``, EIP-2098."""
    full = anchor_typed_data(chain_id, registry, root, leaf_count, relayer, deadline)
    r, vs = compact(signer.sign_typed_data(full))
    return SignedAnchor(root, leaf_count, deadline, r, vs)


def call_of(raw_tx: bytes) -> tuple[bytes, int]:
    """The call data and the gas limit of a signed transaction (EIP-1559 or legacy)."""
    if raw_tx and raw_tx[0] <= 0x7F:  # EIP-2718 typed transaction
        fields = TypedTransaction.from_bytes(HexBytes(raw_tx)).as_dict()
        return bytes(fields["data"]), int(fields["gas"])
    nonce, gas_price, gas, to, value, data, *_signature = rlp.decode(raw_tx)
    del nonce, gas_price, to, value
    return bytes(data), int.from_bytes(gas, "big")
