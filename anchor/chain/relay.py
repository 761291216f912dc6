"""Relayed calls and stored transactions: what the submitter sends, and sends again.

`anchor_signed_data` is the call data of `anchorSigned(deadline, anchors)`, encoded with eth-abi
directly: the contract object's `encode_abi` matches the function against the ABI and validates
every argument first, about 4 ms for one anchor, 27 ms for 40, where this takes a tenth of a
millisecond (the bytes are the same: tests/chain/test_relay.py). `call_of` reads the call data
and gas limit back out of a signed raw transaction of the outbox, so that a fee bump sends
exactly the same call. (A body's relayed anchor is signed by `anchor.chain.eip712.sign_anchor`
with that body's `Signer`.)
"""

from __future__ import annotations

from collections.abc import Sequence

import rlp  # type: ignore[import-untyped]
from eth_abi.abi import encode
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from hexbytes import HexBytes

from anchor.merkle.hashing import keccak256

__all__ = ["ANCHOR_SIGNED_SELECTOR", "anchor_signed_data", "call_of"]

#: `anchorSigned(uint64 deadline, SignedAnchor[] anchors)`, a `SignedAnchor` being
#: `(bytes32 root, uint32 leafCount, bytes32 r, bytes32 vs)`.
_ANCHOR_SIGNED_TYPES = ("uint64", "(bytes32,uint32,bytes32,bytes32)[]")
ANCHOR_SIGNED_SELECTOR = keccak256(f"anchorSigned({','.join(_ANCHOR_SIGNED_TYPES)})".encode())[:4]


def anchor_signed_data(deadline: int, anchors: Sequence[tuple[bytes, int, bytes, bytes]]) -> bytes:
    """The call data of `anchorSigned(deadline, anchors)`; each anchor the ABI tuple
    `(root, leafCount, r, vs)` (`anchor.chain.eip712.SignedAnchor.as_tuple`). A word that is
    not 32 bytes is refused (`ValueError`; eth-abi would pad it), like a number out of range
    (eth-abi's `EncodingError`)."""
    for root, _, r, vs in anchors:
        if not len(root) == len(r) == len(vs) == 32:
            raise ValueError("a relayed anchor's root, r and vs are 32 bytes each")
    return ANCHOR_SIGNED_SELECTOR + encode(_ANCHOR_SIGNED_TYPES, [deadline, list(anchors)])


def call_of(raw_tx: bytes) -> tuple[bytes, int]:
    """The call data and the gas limit of a signed transaction (EIP-1559 or legacy)."""
    if raw_tx and raw_tx[0] <= 0x7F:  # EIP-2718 typed transaction
        fields = TypedTransaction.from_bytes(HexBytes(raw_tx)).as_dict()
        return bytes(fields["data"]), int(fields["gas"])
    nonce, gas_price, gas, to, value, data, *_signature = rlp.decode(raw_tx)
    del nonce, gas_price, to, value
    return bytes(data), int.from_bytes(gas, "big")
