"""The batcher: close pending receipts into frozen Merkle batches.

A batch is closed when ``max_batch_size`` receipts are pending or the oldest pending one is
``max_batch_age`` seconds old. Closing one batch is ONE transaction: pick up to
``max_batch_size`` pending receipts (oldest first), draw a fresh 32-byte salt per digest from
`secrets`, build the tree with `anchor.merkle.build_tree`, insert the batch (frozen) and write
each receipt's salt, leaf, value index and packed proof. A crash anywhere in between rolls the
whole transaction back: the receipts stay pending, no half batch exists. Two batchers may run
at once: on PostgreSQL each locks its receipts with ``FOR UPDATE SKIP LOCKED``; on SQLite the
transaction holds the database write lock from its first statement. A frozen batch's root,
leaf count and proofs are never written again.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from anchor.merkle import build_tree
from anchor.merkle.hashing import HASH_SIZE
from anchor.store import Store, StoreError
from anchor.store import models as m
from anchor.types import BatchState, ReceiptState

__all__ = ["close_batches", "close_one_batch", "pending_query"]

SALT_SIZE = HASH_SIZE


@dataclass(frozen=True, slots=True)
class _Pending:
    id: str
    digest: bytes
    created_at: datetime


def close_batches(
    store: Store, max_batch_size: int, max_batch_age: float, now: datetime | None = None
) -> list[int]:
    """Close every batch that is due; return the new batch ids in creation order.

    ``now`` (timezone-aware) replaces the clock for the age rule, for tests.
    """
    if max_batch_size < 1 or max_batch_age <= 0:
        raise ValueError("max_batch_size must be >= 1 and max_batch_age > 0")
    closed: list[int] = []
    while (batch_id := close_one_batch(store, max_batch_size, max_batch_age, now)) is not None:
        closed.append(batch_id)
    return closed


def close_one_batch(
    store: Store, max_batch_size: int, max_batch_age: float, now: datetime | None = None
) -> int | None:
    """Close one batch if one is due (see `close_batches`); return its id, or None."""
    with store.transaction() as session:
        pending = _lock_pending(session, max_batch_size)
        if not pending:
            return None
        age = ((now or m.utcnow()) - pending[0].created_at).total_seconds()
        if len(pending) < max_batch_size and age < max_batch_age:
            return None
        return _freeze(session, pending)


def pending_query(limit: int) -> Select[str, bytes | None, datetime]:
    """The oldest pending receipts, ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite ignores it)."""
    return (
        select(m.Receipt.id, m.Receipt.digest, m.Receipt.created_at)
        .where(m.Receipt.state == ReceiptState.PENDING.value)
        .order_by(m.Receipt.created_at, m.Receipt.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def _lock_pending(session: Session, limit: int) -> list[_Pending]:
    """Lock up to ``limit`` oldest pending receipts; rows another batcher holds are skipped."""
    rows = session.execute(pending_query(limit))
    return [_Pending(r.id, bytes(r.digest), r.created_at) for r in rows]


def _freeze(session: Session, pending: Sequence[_Pending]) -> int:
    """Build the tree of ``pending``, insert the frozen batch and fill in every receipt."""
    salts = [secrets.token_bytes(SALT_SIZE) for _ in pending]
    tree = build_tree([(salt, p.digest) for salt, p in zip(salts, pending, strict=True)])
    now = m.utcnow()
    batch_id = session.execute(
        insert(m.Batch)
        .values(
            root=tree.root,
            leaf_count=tree.leaf_count,
            state=BatchState.FROZEN.value,
            created_at=now,
            frozen_at=now,
        )
        .returning(m.Batch.id)
    ).scalar_one()
    rows = [
        (index, salts[index], tree.leaf(index), packed, pending[index].id)
        for index, packed in tree.iter_packed_proofs()
    ]
    _fill_receipts(session, batch_id, rows, now)
    return int(batch_id)


_FILL_QMARK = (
    "UPDATE receipts SET state = ?, batch_id = ?, value_index = ?, salt = ?, leaf = ?, "
    "proof = ?, updated_at = ? WHERE id = ? AND state = ?"
)
_FILL_SQL = {"?": _FILL_QMARK, "%s": _FILL_QMARK.replace("?", "%s")}
"""The bulk update, per driver placeholder style (constant names; every value is bound)."""


def _fill_receipts(
    session: Session,
    batch_id: int,
    rows: list[tuple[int, bytes, bytes, bytes, str]],
    now: datetime,
) -> None:
    """Set receipts batched with (value_index, salt, leaf, packed proof, receipt id) rows.

    One driver ``executemany``: values are plain ints and bytes, and the timestamp goes through
    the column type's bind processing once, not once per row.
    """
    conn = session.connection()
    dialect = conn.dialect
    to_db = m.RECEIPTS.c.updated_at.type.dialect_impl(dialect).bind_processor(dialect)
    stamp = to_db(now) if to_db is not None else now
    batched, pending = ReceiptState.BATCHED.value, ReceiptState.PENDING.value
    params = [
        (batched, batch_id, index, salt, leaf, proof, stamp, rid, pending)
        for index, salt, leaf, proof, rid in rows
    ]
    result = conn.exec_driver_sql(_FILL_SQL["?" if dialect.paramstyle == "qmark" else "%s"], params)
    if dialect.supports_sane_multi_rowcount and result.rowcount != len(params):
        raise StoreError(f"batch {batch_id}: {len(params) - result.rowcount} receipts changed")
