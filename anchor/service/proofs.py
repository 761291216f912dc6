"""Build the proof bundle of an anchored receipt from the store and the registry."""

from __future__ import annotations

from anchor.chain.reader import AnchorFacts
from anchor.errors import StoreError
from anchor.proof.bundle import BUNDLE_VERSION, ProofBundle
from anchor.store import Batch, Receipt


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def build_bundle(
    receipt: Receipt, batch: Batch, facts: AnchorFacts, *, chain_id: int, registry: str
) -> ProofBundle:
    """The v1 bundle of ``receipt``, anchored in ``batch`` as ``facts`` read on chain.

    Raise StoreError when the store lacks a part of the proof (an inconsistent row).
    """
    if (
        receipt.digest is None
        or receipt.salt is None
        or receipt.leaf is None
        or batch.tx_hash is None
        or batch.block_number is None
    ):
        raise StoreError(f"receipt {receipt.id} is anchored but its proof is incomplete")
    return ProofBundle(
        version=BUNDLE_VERSION,
        digest=_hex(receipt.digest.bytes),
        salt=_hex(receipt.salt),
        leaf=_hex(receipt.leaf),
        proof=tuple(_hex(p) for p in receipt.proof),
        root=_hex(batch.root),
        chain_id=chain_id,
        registry=registry.lower(),
        tx_hash=_hex(batch.tx_hash),
        block_number=batch.block_number,
        issuer=facts.issuer,
        anchored_at=facts.anchored_at,
        issuer_name=facts.issuer_name,
    )
