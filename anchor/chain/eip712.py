"""Relayed anchors: the EIP-712 message an anchoring key signs, and its compact signature.

The message is `Anchor(bytes32 root,uint32 leafCount,address relayer,uint64 deadline)` under the
domain `{name: "AnchorRegistry", version: "2", chainId, verifyingContract}` (docs/registry.md).
`relayer` binds the signature to the account that sends it: a copy taken from the mempool fails
from any other account. The signature travels in EIP-2098 compact form (r, vs). One
`anchorSigned(deadline, anchors)` call carries items signed with the same deadline, given once (it
saves a word of calldata a root).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from eth_account.messages import encode_typed_data
from web3 import Web3

DOMAIN_NAME = "AnchorRegistry"
DOMAIN_VERSION = "2"

ANCHOR_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Anchor": [
        {"name": "root", "type": "bytes32"},
        {"name": "leafCount", "type": "uint32"},
        {"name": "relayer", "type": "address"},
        {"name": "deadline", "type": "uint64"},
    ],
}

_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


class TypedDataSigner(Protocol):
    """Anything that signs an EIP-712 message: an eth-account key (whose answer has a
    ``signature``), an `anchor.chain.signer.Signer` (which answers the 65 bytes), a KMS later."""

    def sign_typed_data(self, *, full_message: dict[str, Any]) -> Any:
        """Return the 65-byte signature r || s || v, or an object holding it as ``signature``."""
        ...


@dataclass(frozen=True)
class SignedAnchor:
    """A relayed anchor as `anchorSigned(deadline, anchors)` takes it; ``deadline`` is the one
    it was signed with, given once per call (every item of a call shares it)."""

    root: bytes
    leaf_count: int
    deadline: int
    r: bytes
    vs: bytes

    def as_tuple(self) -> tuple[bytes, int, bytes, bytes]:
        """The ABI tuple `(root, leafCount, r, vs)`."""
        return (self.root, self.leaf_count, self.r, self.vs)


def anchor_typed_data(
    chain_id: int, registry: str, root: bytes, leaf_count: int, relayer: str, deadline: int
) -> dict[str, Any]:
    """The full EIP-712 message of a relayed anchor."""
    return {
        "types": ANCHOR_TYPES,
        "primaryType": "Anchor",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": Web3.to_checksum_address(registry),
        },
        "message": {
            "root": root,
            "leafCount": leaf_count,
            "relayer": Web3.to_checksum_address(relayer),
            "deadline": deadline,
        },
    }


def anchor_digest(
    chain_id: int, registry: str, root: bytes, leaf_count: int, relayer: str, deadline: int
) -> bytes:
    """The 32-byte digest the key signs (the contract's `hashAnchor`)."""
    signable = encode_typed_data(
        full_message=anchor_typed_data(chain_id, registry, root, leaf_count, relayer, deadline)
    )
    return bytes(Web3.keccak(b"\x19" + signable.version + signable.header + signable.body))


def compact(signature: bytes) -> tuple[bytes, bytes]:
    """EIP-2098: (r, s, v) as (r, vs), the parity of y in the top bit of s."""
    if len(signature) != 65:
        raise ValueError(f"a signature is 65 bytes, not {len(signature)}")
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    if s > _HALF_ORDER:
        raise ValueError("signature s is in the upper half of the curve order")
    parity = (v - 27) if v >= 27 else v
    vs = (parity << 255) | s
    return r, vs.to_bytes(32, "big")


def sign_anchor(
    signer: TypedDataSigner,
    chain_id: int,
    registry: str,
    root: bytes,
    leaf_count: int,
    relayer: str,
    deadline: int,
) -> SignedAnchor:
    """Sign a relayed anchor with an anchoring key."""
    message = anchor_typed_data(chain_id, registry, root, leaf_count, relayer, deadline)
    signed = signer.sign_typed_data(full_message=message)
    r, vs = compact(bytes(signed if isinstance(signed, bytes | bytearray) else signed.signature))
    return SignedAnchor(root, leaf_count, deadline, r, vs)
