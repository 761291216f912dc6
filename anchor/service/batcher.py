"""The batcher: seal pending receipts into frozen Merkle batches.

A batch is closed when ``max_batch_size`` receipts are pending or the oldest pending one is
``max_batch_age`` seconds old. The store (`anchor.store.batches`) locks the receipts and writes
the batch in one transaction; this module draws a fresh 32-byte salt per digest from `secrets`
and builds the tree with `anchor.merkle.build_tree`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from anchor.merkle import build_tree
from anchor.merkle.hashing import HASH_SIZE
from anchor.store import Store
from anchor.store.batches import SealedBatch, SealedLeaf

__all__ = ["SALT_SIZE", "close_batches", "seal"]

SALT_SIZE = HASH_SIZE


def seal(digests: Sequence[bytes]) -> SealedBatch:
    """Salt each digest afresh and build the tree; leaves are given in ``digests`` order."""
    salts = [secrets.token_bytes(SALT_SIZE) for _ in digests]
    tree = build_tree(list(zip(salts, digests, strict=True)))
    return SealedBatch(
        root=tree.root,
        leaf_count=tree.leaf_count,
        leaves=(
            SealedLeaf(index, salts[index], tree.leaf(index), packed)
            for index, packed in tree.iter_packed_proofs()
        ),
    )


def close_batches(
    store: Store, max_batch_size: int, max_batch_age: float, now: datetime | None = None
) -> list[int]:
    """Close every batch that is due; return the new batch ids in creation order.

    ``now`` (timezone-aware) replaces the clock for the age rule, for tests.
    """
    if max_batch_size < 1 or max_batch_age <= 0:
        raise ValueError("max_batch_size must be >= 1 and max_batch_age > 0")
    closed: list[int] = []
    while (batch_id := store.close_due_batch(max_batch_size, max_batch_age, seal, now)) is not None:
        closed.append(batch_id)
    return closed
