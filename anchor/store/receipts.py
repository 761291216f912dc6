"""Reading receipts, the backlog gauges, and erasure on request."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, delete, func, select, update

from anchor.store import models as m
from anchor.store._base import StoreBase
from anchor.store._sql import driver_rows, driver_sql, timestamp_reader
from anchor.store.batches import PENDING_BODIES, PENDING_OLDEST
from anchor.store.errors import NotFoundError
from anchor.store.records import Batch, Receipt
from anchor.types import BatchState, ReceiptState

log = logging.getLogger(__name__)

_RECEIPTS = m.RECEIPTS
_BATCHES = cast(Table, m.Batch.__table__)
BATCH_PREFIX = "batch__"


class Prefixed:
    """The columns of a joined row labelled with ``prefix``, by their own names (for
    `Batch.of`)."""

    __slots__ = ("_prefix", "_row")

    def __init__(self, row: Row[Any], prefix: str = BATCH_PREFIX) -> None:
        self._row = row._mapping
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return self._row[self._prefix + name]


_OLDEST_UNANCHORED = driver_sql(
    PENDING_BODIES,
    "SELECT min(t) FROM (SELECT ",
    PENDING_OLDEST,
    " AS t FROM bodies b WHERE b.issuer_id IS NOT NULL UNION ALL SELECT min(created_at) "
    "FROM receipts WHERE state = 'pending' AND issuer_id IS NULL UNION ALL "
    "SELECT (SELECT min(r.created_at) FROM receipts r WHERE r.batch_id = x.id "
    "AND r.state IN (?, ?)) FROM batches x WHERE x.state IN (?, ?)) AS oldest",
)
"""The oldest ``created_at`` of the unanchored receipts: of each body's pending ones and of
those without a body (one seek each, ``ix_receipts_pending``), and of each frozen or submitted
batch's (one seek a batch, ``ix_receipts_batched``)."""
_UNANCHORED_PARAMS = (
    ReceiptState.BATCHED.value,
    ReceiptState.SUBMITTED.value,
    BatchState.FROZEN.value,
    BatchState.SUBMITTED.value,
)
ERASED_FINGERPRINT = bytes(32)
"""Fingerprint left on an idempotency record whose receipt was erased: retries then conflict."""


class ReceiptsMixin(StoreBase):
    """Receipts and erasure; see `anchor.store.Store`."""

    def get_receipt(self, receipt_id: str, integrator_id: int | None = None) -> Receipt | None:
        """Return the receipt, or None if unknown or (with ``integrator_id``) someone else's.

        An erased receipt is returned with state ``erased`` and no digest, salt, leaf or proof.
        """
        with self._reading() as session:
            row = session.get(m.Receipt, receipt_id)
            if row is None or (integrator_id is not None and row.integrator_id != integrator_id):
                return None
            batch = None if row.batch_id is None else session.get(m.Batch, row.batch_id)
            return Receipt.of(row, None if batch is None else batch.state)

    def get_batch(self, batch_id: int) -> Batch | None:
        """Return the batch, or None."""
        with self._reading() as session:
            row = session.get(m.Batch, batch_id)
            return None if row is None else Batch.of(row)

    def batch_receipts(self, batch_id: int) -> list[Receipt]:
        """Return the receipts of a batch in value-index order (erased ones included)."""
        query = (
            select(m.Receipt).where(m.Receipt.batch_id == batch_id).order_by(m.Receipt.value_index)
        )
        with self._reading() as session:
            batch = session.get(m.Batch, batch_id)
            state = None if batch is None else batch.state
            return [Receipt.of(row, state) for row in session.scalars(query)]

    def pending_count(self) -> int:
        """The number of receipts waiting for a batch."""
        query = select(func.count()).where(m.PENDING_ONLY)
        with self._reading() as session:
            return int(session.scalar(query) or 0)

    def oldest_unanchored_age(self, now: datetime | None = None) -> float | None:
        """Seconds since the oldest pending, batched or submitted receipt came in; None if none.

        Index seeks only (`_OLDEST_UNANCHORED`): the worker asks every second and a metrics
        scrape asks too, and a receipt is in no index by its state once it left pending."""
        with self._guard(), self._read_engine().begin() as conn:
            rows = driver_rows(conn, _OLDEST_UNANCHORED.for_dialect(conn), _UNANCHORED_PARAMS)
            oldest = timestamp_reader(conn, m.RECEIPTS.c.created_at)(rows[0][0])
        if not isinstance(oldest, datetime):
            return None
        return max(0.0, ((now or m.utcnow()) - oldest).total_seconds())

    def erase(self, receipt_id: str, integrator_id: int | None = None) -> Receipt:
        """Erase a receipt on request: delete its digest, salt, leaf and proof for good, and a
        typed document's row of ``document_facts`` (type, facts, private facts, private salt,
        file digest, commitment).

        The state becomes ``erased`` (kept through later batch transitions) and ``erased_at``
        is set; the on-chain root can no longer be linked to the document, while every other
        proof of the batch still verifies (they are stored whole, per receipt). A retry of the
        original request with the same Idempotency-Key then fails with IdempotencyConflict.
        Idempotent; NotFoundError if the receipt is unknown or (with ``integrator_id``) not theirs.

        On SQLite, ``secure_delete`` zeroes the old content in the database file and a WAL
        checkpoint afterwards truncates the log that still held it (see docs/store.md for what
        PostgreSQL keeps until VACUUM, and what backups keep).
        """
        with self._transaction() as session:
            row = session.get(m.Receipt, receipt_id, with_for_update=True)
            if row is None or (integrator_id is not None and row.integrator_id != integrator_id):
                raise NotFoundError(f"no receipt {receipt_id!r}")
            if row.state != ReceiptState.ERASED.value:
                now = m.utcnow()
                row.digest = row.salt = row.leaf = row.proof = None
                session.execute(
                    delete(m.DocumentFacts).where(m.DocumentFacts.receipt_id == receipt_id)
                )
                row.state = ReceiptState.ERASED.value
                row.erased_at = row.updated_at = now
                if row.idempotency_key is not None:
                    session.execute(
                        update(m.IdempotencyRecord)
                        .where(
                            m.IdempotencyRecord.integrator_id == row.integrator_id,
                            m.IdempotencyRecord.key == row.idempotency_key,
                        )
                        .values(fingerprint=ERASED_FINGERPRINT)
                    )
                row.idempotency_key = None
            erased = Receipt.of(row)
        self._checkpoint()
        return erased

    def _checkpoint(self) -> None:
        """Copy the SQLite write-ahead log into the database and truncate it (no-op elsewhere)."""
        if self.dialect != "sqlite":
            return
        with self._guard(), self.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            busy, _log, _done = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            log.warning(
                "a reader kept the WAL checkpoint after an erasure from finishing; the log is "
                "truncated at the next erasure or by SQLite's own checkpoints"
            )
