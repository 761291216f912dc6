"""The batcher: seal pending receipts into frozen Merkle batches, one body at a time.

Batches are per body: a batch of a body is closed when ``max_batch_size`` of its receipts are
pending or its oldest pending one is ``max_batch_age`` seconds old. Only onboarded bodies are
batched; the receipts of a body not on chain yet stay pending (`Store.backlogs`). The store
(`anchor.store.batches`) locks the receipts and writes
the batch in one transaction; this module draws a fresh 32-byte salt per digest from `secrets`
and builds the tree with `anchor.merkle.build_tree`.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import chain

from anchor.merkle import build_tree_packed
from anchor.merkle.hashing import HASH_SIZE
from anchor.store import Store
from anchor.store.batches import Backlog, ClosedBatch, SealedBatch, SealedLeaf

__all__ = ["SALT_SIZE", "close_batches", "seal", "seal_due_batches"]

SALT_SIZE = HASH_SIZE


def seal(digests: Sequence[bytes]) -> SealedBatch:
    """Salt each digest afresh and build the tree; leaves are given in ``digests`` order.

    The salts are one draw of ``32 * n`` bytes from the operating system's CSPRNG (what
    `secrets.token_bytes` reads), cut into 32-byte salts: one call instead of ``n``. The
    values go to the tree packed (``salt ++ digest``), and every leaf comes with its proof
    in one pass over the tree.
    """
    n = len(digests)
    if any(len(d) != HASH_SIZE for d in digests):
        raise ValueError("every digest must be 32 bytes")
    drawn = secrets.token_bytes(SALT_SIZE * n)
    salts = [drawn[i : i + SALT_SIZE] for i in range(0, SALT_SIZE * n, SALT_SIZE)]
    tree = build_tree_packed(b"".join(chain.from_iterable(zip(salts, digests, strict=True))))
    return SealedBatch(
        root=tree.root,
        leaf_count=tree.leaf_count,
        leaves=(
            SealedLeaf(index, salts[index], leaf, packed)
            for index, leaf, packed in tree.iter_leaf_proofs()
        ),
    )


def close_batches(
    store: Store,
    max_batch_size: int,
    max_batch_age: float,
    now: datetime | None = None,
    *,
    back_pressure: bool = False,
) -> list[int]:
    """Close every batch that is due, body by body; return the new batch ids in creation order.

    `seal_due_batches` with only the ids.
    """
    closed = seal_due_batches(
        store, max_batch_size, max_batch_age, now, back_pressure=back_pressure
    )
    return [c.batch_id for c in closed]


def seal_due_batches(
    store: Store,
    max_batch_size: int,
    max_batch_age: float,
    now: datetime | None = None,
    *,
    back_pressure: bool = False,
) -> list[ClosedBatch]:
    """Close every batch that is due, every body's in one store transaction (one commit for
    all: `Store.close_due_batches`), then again for the bodies whose batch was full, until
    none is due; return the new batches in creation order.

    With ``back_pressure``, a body whose frozen batch still waits for submission gets only full
    batches: its digests accumulate into the next batch instead of queueing up as many small
    ones. ``max_batch_age`` 0 closes every pending digest, however young: the worker's early
    close in a send window. ``now`` (timezone-aware) replaces the clock for the age rule, for
    tests.
    """
    if max_batch_size < 1 or max_batch_age < 0:
        raise ValueError("max_batch_size must be >= 1 and max_batch_age >= 0")
    moment = now or datetime.now(UTC)
    bodies: list[tuple[int, float]] = []
    left: dict[int, float] = {}
    # Counted up to one more than a batch (`Store.backlogs`' cap): enough to know that a
    # body's batch is full and that it has more; counting the whole of a large backlog read
    # every receipt of it at every step. A body at the cap goes again while its batches fill.
    cap = max_batch_size + 1
    for backlog in store.backlogs(cap=cap):
        age = float("inf") if back_pressure and backlog.frozen_waiting else max_batch_age
        if _due(backlog, max_batch_size, age, moment):
            bodies.append((backlog.issuer_id, age))
            left[backlog.issuer_id] = math.inf if backlog.pending >= cap else backlog.pending
    closed: list[ClosedBatch] = []
    while bodies:
        sealed = store.close_due_batches(max_batch_size, bodies, seal, moment)
        closed += sealed
        # A full batch of a body that had more pending: that body goes again (digests taken
        # since the backlog's read wait for the next call).
        full = set()
        for c in sealed:
            left[c.issuer_id] -= c.leaf_count
            if c.leaf_count >= max_batch_size and left[c.issuer_id] > 0:
                full.add(c.issuer_id)
        bodies = [(issuer_id, age) for issuer_id, age in bodies if issuer_id in full]
    return closed


def _due(backlog: Backlog, max_batch_size: int, age: float, now: datetime) -> bool:
    """Whether ``backlog`` makes a batch now, by its count and its oldest receipt's time: a body
    that does not is left out before any store transaction. The worker asks at every step, a
    hundred times a second in a block's send window; without this the store read every pending
    receipt of every body (thousands under load) to find that none was due
    (`bench/bench_api_load.py`: 20 ms of CPU a step with 5,000 pending). The store checks again
    within its transaction: this only spares the reads."""
    if backlog.pending >= max_batch_size or age <= 0:
        return True
    return (now - backlog.oldest).total_seconds() >= age
