"""Closing batches: lock the oldest pending receipts of one body and freeze them, in ONE
transaction.

Batches are per body: `BatchesMixin.backlogs` says, for every onboarded body with pending
receipts, how many wait, since when, and whether a frozen batch of it already waits for
submission; `BatchesMixin.close_due_batch` picks up to ``max_batch_size`` pending receipts of
one body (oldest first),
and when the batch is due (full, or its oldest receipt ``max_batch_age`` seconds old) calls the
caller's ``seal`` with their digests — the service draws the salts and builds the tree there —
then inserts the batch (frozen) and writes each receipt's salt, leaf, value index and packed
proof. A crash anywhere in between rolls the whole transaction back: the receipts stay pending,
no half batch exists. Two batchers may run at once: on PostgreSQL each locks its receipts with
``FOR UPDATE SKIP LOCKED``; on SQLite the transaction holds the database write lock from its
first statement. A frozen batch's root, leaf count and proofs are never written again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from anchor.store import models as m
from anchor.store._base import StoreBase
from anchor.store._sql import bound_timestamp, driver_sql
from anchor.store.errors import StoreError
from anchor.types import BatchState, ReceiptState

__all__ = ["Backlog", "BatchesMixin", "SealedBatch", "SealedLeaf", "pending_query"]


@dataclass(frozen=True, slots=True)
class Backlog:
    """The pending receipts of one onboarded body, and whether a frozen batch of it waits."""

    issuer_id: int
    pending: int
    oldest: datetime
    frozen_waiting: bool


@dataclass(frozen=True, slots=True)
class SealedLeaf:
    """One receipt's place in a sealed tree: its value index, salt, leaf and packed proof."""

    index: int
    salt: bytes
    leaf: bytes
    packed_proof: bytes


@dataclass(frozen=True, slots=True)
class SealedBatch:
    """The tree the service built over a batch's digests (in the order it was given them)."""

    root: bytes
    leaf_count: int
    leaves: Iterable[SealedLeaf]


Seal = Callable[[Sequence[bytes]], SealedBatch]
"""Builds the tree of the given digests: the salts are drawn and the tree built by the caller."""


def pending_query(limit: int, issuer_id: int) -> Select[str, bytes | None, datetime]:
    """The oldest pending receipts of a body, ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite
    ignores it)."""
    return (
        select(m.Receipt.id, m.Receipt.digest, m.Receipt.created_at)
        .where(m.Receipt.state == ReceiptState.PENDING.value, m.Receipt.issuer_id == issuer_id)
        .order_by(m.Receipt.created_at, m.Receipt.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


class BatchesMixin(StoreBase):
    """Freezing pending receipts into batches; see `anchor.store.Store`."""

    def backlogs(self) -> list[Backlog]:
        """The pending receipts of every onboarded body that has some, oldest first.

        A body not onboarded yet (no ``chain_body_id``) is left out: its receipts stay pending
        until it is. Receipts without a body (taken before bodies existed) are left out too.
        """
        pending = (
            select(m.Receipt.issuer_id, func.count(), func.min(m.Receipt.created_at))
            .join(m.Issuer, m.Issuer.id == m.Receipt.issuer_id)
            .where(
                m.Receipt.state == ReceiptState.PENDING.value, m.Issuer.chain_body_id.is_not(None)
            )
            .group_by(m.Receipt.issuer_id)
        )
        frozen = (
            select(m.Batch.issuer_id)
            .where(m.Batch.state == BatchState.FROZEN.value, m.Batch.issuer_id.is_not(None))
            .distinct()
        )
        with self._reading() as session:
            rows = session.execute(pending).all()
            waiting = set(session.scalars(frozen))
        found = [Backlog(int(i or 0), int(n), oldest, i in waiting) for i, n, oldest in rows]
        return sorted(found, key=lambda b: (b.oldest, b.issuer_id))

    def pending_count_of(self, issuer_id: int) -> int:
        """The number of receipts of a body waiting for a batch."""
        query = select(func.count()).where(
            m.Receipt.state == ReceiptState.PENDING.value, m.Receipt.issuer_id == issuer_id
        )
        with self._reading() as session:
            return int(session.scalar(query) or 0)

    def close_due_batch(
        self,
        max_batch_size: int,
        max_batch_age: float,
        seal: Seal,
        now: datetime | None = None,
        *,
        issuer_id: int,
    ) -> int | None:
        """Close one batch of the body ``issuer_id`` if one is due and return its id; None when
        none is due.

        ``now`` (timezone-aware) replaces the clock for the age rule, for tests.
        """
        with self._transaction() as session:
            rows = session.execute(pending_query(max_batch_size, issuer_id)).all()
            if not rows:
                return None
            age = ((now or m.utcnow()) - rows[0].created_at).total_seconds()
            if len(rows) < max_batch_size and age < max_batch_age:
                return None
            sealed = seal([bytes(r.digest) for r in rows])
            return _insert_frozen(session, sealed, [r.id for r in rows], issuer_id)


def _insert_frozen(
    session: Session, sealed: SealedBatch, receipt_ids: Sequence[str], issuer_id: int
) -> int:
    now = m.utcnow()
    batch_id = session.execute(
        insert(m.Batch)
        .values(
            root=sealed.root,
            leaf_count=sealed.leaf_count,
            state=BatchState.FROZEN.value,
            created_at=now,
            frozen_at=now,
            issuer_id=issuer_id,
        )
        .returning(m.Batch.id)
    ).scalar_one()
    fill_receipts(session, int(batch_id), sealed.leaves, receipt_ids, now)
    return int(batch_id)


_FILL = driver_sql(
    "UPDATE receipts SET state = ?, batch_id = ?, value_index = ?, salt = ?, leaf = ?, "
    "proof = ?, updated_at = ? WHERE id = ? AND state = ?"
)


def fill_receipts(
    session: Session,
    batch_id: int,
    leaves: Iterable[SealedLeaf],
    receipt_ids: Sequence[str],
    now: datetime,
) -> None:
    """Set the receipts ``receipt_ids[leaf.index]`` batched, with their salt, leaf and proof.

    One driver ``executemany``: values are plain ints and bytes, and the timestamp goes through
    the column type's bind processing once, not once per row. A receipt that is no longer
    pending (erased meanwhile) aborts the whole batch with StoreError.
    """
    conn = session.connection()
    stamp = bound_timestamp(conn, m.RECEIPTS.c.updated_at, now)
    batched, pending = ReceiptState.BATCHED.value, ReceiptState.PENDING.value
    params = [
        (batched, batch_id, x.index, x.salt, x.leaf, x.packed_proof, stamp, receipt_ids[x.index],
         pending)
        for x in leaves
    ]  # fmt: skip
    result = conn.exec_driver_sql(_FILL.for_dialect(conn), params)
    if conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(params):
        raise StoreError(f"batch {batch_id}: {len(params) - result.rowcount} receipts changed")
