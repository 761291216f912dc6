"""Build the proof bundle of an anchored receipt from the store and the registry."""

from __future__ import annotations

import threading
from collections import OrderedDict

from anchor.chain.reader import AnchorFacts, ChainReader
from anchor.errors import StoreError
from anchor.proof.bundle import BUNDLE_VERSION, ProofBundle
from anchor.store import Batch, Receipt

_LOCKS_KEPT = 4096
_locks: OrderedDict[tuple[bytes, bytes | None], threading.Lock] = OrderedDict()
_locks_guard = threading.Lock()


def anchor_facts_once(chain: ChainReader, batch: Batch) -> AnchorFacts | None:
    """`ChainReader.anchor_facts` of ``batch``, read from the chain once under concurrent calls.

    The reader caches the facts of a root (they never change once final), but 50 concurrent
    GETs of a freshly anchored batch all missed that cache together and each read the chain.
    Callers for one (root, block hash) now queue on one lock: the first reads the chain, the
    others find the reader's cache filled.
    """
    key = (batch.root, batch.block_hash)
    with _locks_guard:
        lock = _locks.get(key)
        if lock is None:
            lock = _locks[key] = threading.Lock()
            while len(_locks) > _LOCKS_KEPT:
                _locks.popitem(last=False)
    with lock:
        return chain.anchor_facts(batch.root, batch.block_hash, batch.tx_hash)


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def build_bundle(
    receipt: Receipt, batch: Batch, facts: AnchorFacts, *, chain_id: int, registry: str
) -> ProofBundle:
    """The v1 bundle of ``receipt``, anchored in ``batch`` as ``facts`` read on chain.

    ``issuer`` is the body's key that signed the anchor (the registry's anchor record), and
    ``txHash`` the transaction that carried it, possibly a relayer's. No ``issuerName`` is
    written: verifiers take the body's name from the registry only. Raise StoreError when the
    store lacks a part of the proof (an inconsistent row).
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
    )
