"""Stored transactions: what the submitter sends again.

`call_of` reads the call data and gas limit back out of a signed raw transaction of the outbox,
so that a fee bump sends exactly the same call. (A body's relayed anchor is signed by
`anchor.chain.eip712.sign_anchor` with that body's `Signer`.)
"""

from __future__ import annotations

import rlp  # type: ignore[import-untyped]
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from hexbytes import HexBytes

__all__ = ["call_of"]


def call_of(raw_tx: bytes) -> tuple[bytes, int]:
    """The call data and the gas limit of a signed transaction (EIP-1559 or legacy)."""
    if raw_tx and raw_tx[0] <= 0x7F:  # EIP-2718 typed transaction
        fields = TypedTransaction.from_bytes(HexBytes(raw_tx)).as_dict()
        return bytes(fields["data"]), int(fields["gas"])
    nonce, gas_price, gas, to, value, data, *_signature = rlp.decode(raw_tx)
    del nonce, gas_price, to, value
    return bytes(data), int.from_bytes(gas, "big")
