"""Batches and the transaction outbox, for the submitter.

Batch transitions (any other raises InvalidTransitionError)::

    frozen    -> submitted   mark_batch_submitted   (its signed tx was broadcast)
    frozen    -> anchored    mark_batch_anchored    (mined before the submitted mark, on restart)
    submitted -> anchored    mark_batch_anchored    (deep enough on a canonical block;
                             mark_batches_anchored: all one transaction carries, at once)
    submitted -> frozen      return_batch_to_submission (dropped, replaced, reorganised away)
    anchored  -> frozen      return_batch_to_submission (a later reorg removed its block)
    frozen    -> failed      mark_batch_failed      (a permanent cause: invalid batch, root taken)
    submitted -> failed      mark_batch_failed
    failed    -> frozen      retry_failed_batches   (`anchor batches retry`)

A frozen batch on hold (paused registry, missing role...) stays frozen; `note_hold` records the
cause in its ``failure_reason``. Receipts follow their batch (batched, submitted, anchored,
failed), except erased ones, which stay erased; only a failure (and a retry) rewrites their
rows, submitted and anchored are read from the batch (`records.receipt_state`). Outbox rows:
signed -> broadcast -> mined; signed/broadcast -> replaced (a fee bump recorded with
``replaces=``); signed/broadcast/mined -> dropped or replaced when the batch goes back to
submission. At most one row per (signer, nonce) is signed, broadcast or mined.

An outbox row carries the anchors of one batch (a body's key sending ``anchor``) or of many (the
relayer's ``anchorSigned``): `record_signed_tx` takes their ids, kept in ``outbox_batches``. A
row becomes ``mined`` once every batch it carries is anchored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from anchor.store import models as m
from anchor.store._base import StoreBase
from anchor.store.errors import InvalidTransitionError, NotFoundError, StoreError
from anchor.store.records import Batch, OutboxEntry
from anchor.types import (
    IN_FLIGHT_OUTBOX_STATES,
    LIVE_OUTBOX_STATES,
    BatchState,
    FailureCause,
    OutboxState,
    ReceiptState,
)

_LIVE = [s.value for s in LIVE_OUTBOX_STATES]
_IN_FLIGHT = [s.value for s in IN_FLIGHT_OUTBOX_STATES]


def _batch(session: Session, batch_id: int, allowed: tuple[BatchState, ...], to: str) -> m.Batch:
    row = session.get(m.Batch, batch_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"no batch {batch_id}")
    if BatchState(row.state) not in allowed:
        raise InvalidTransitionError(f"batch {batch_id}", row.state, to)
    return row


def _batches(
    session: Session, batch_ids: Sequence[int], allowed: tuple[BatchState, ...], to: str
) -> list[m.Batch]:
    """`_batch` for many batches: their rows locked in ONE query, in the order of ``batch_ids``."""
    query = select(m.Batch).where(m.Batch.id.in_(list(batch_ids))).order_by(m.Batch.id)
    rows = {row.id: row for row in session.scalars(query.with_for_update())}
    for batch_id in batch_ids:
        row = rows.get(batch_id)
        if row is None:
            raise NotFoundError(f"no batch {batch_id}")
        if BatchState(row.state) not in allowed:
            raise InvalidTransitionError(f"batch {batch_id}", row.state, to)
    return [rows[i] for i in batch_ids]


def _submit(session: Session, batch_ids: Sequence[int], tx_hash: bytes) -> list[Batch]:
    """frozen -> submitted for every batch of ``batch_ids``. Their receipts are not rewritten:
    they read as submitted while their batch is (`anchor.store.records.receipt_state`)."""
    rows = _batches(session, batch_ids, (BatchState.FROZEN,), "submitted")
    now = m.utcnow()
    for row in rows:
        row.state = BatchState.SUBMITTED.value
        row.tx_hash = bytes(tx_hash)
        row.submitted_at = now
    return [Batch.of(row) for row in rows]


def _record(
    session: Session,
    ids: list[int],
    nonce: int,
    signer: str,
    raw_tx: bytes,
    tx_hash: bytes,
    max_fee_per_gas: int | None,
    max_priority_fee_per_gas: int | None,
    gas_price: int | None,
    replaces: int | None,
) -> OutboxEntry:
    """`SubmissionMixin.record_signed_tx` inside ``session``."""
    if not ids:
        raise StoreError("a transaction carries the anchor of at least one batch")
    _batches(session, ids, (BatchState.FROZEN, BatchState.SUBMITTED), "signed")
    if replaces is not None:
        old = session.get(m.Outbox, replaces, with_for_update=True)
        if old is None:
            raise NotFoundError(f"no outbox row {replaces}")
        if old.state not in _IN_FLIGHT:
            raise InvalidTransitionError(f"outbox row {replaces}", old.state, "replaced")
        old.state = OutboxState.REPLACED.value
        session.flush()
    row = m.Outbox(
        batch_id=ids[0],
        nonce=nonce,
        signer=signer,
        raw_tx=bytes(raw_tx),
        tx_hash=bytes(tx_hash),
        max_fee_per_gas=max_fee_per_gas,
        max_priority_fee_per_gas=max_priority_fee_per_gas,
        gas_price=gas_price,
        state=OutboxState.SIGNED.value,
        created_at=m.utcnow(),
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as e:
        raise StoreError(
            f"signer {signer} already has a live transaction with nonce {nonce}"
        ) from e
    session.add_all(m.OutboxBatch(outbox_id=row.id, batch_id=b) for b in ids)
    return OutboxEntry(
        row.id, tuple(ids), nonce, signer, row.raw_tx, row.tx_hash, max_fee_per_gas,
        max_priority_fee_per_gas, gas_price, OutboxState.SIGNED, row.created_at, None,
    )  # fmt: skip


def _entries(session: Session, rows: Sequence[m.Outbox]) -> list[OutboxEntry]:
    """The records of outbox rows with the ids of their batches (one query for all)."""
    ids = [r.id for r in rows]
    batches: dict[int, list[int]] = defaultdict(list)
    if ids:
        links = select(m.OutboxBatch).where(m.OutboxBatch.outbox_id.in_(ids))
        for link in session.scalars(links):
            batches[link.outbox_id].append(link.batch_id)
    return [OutboxEntry.of(row, batches[row.id] or [row.batch_id]) for row in rows]


def _rows_of_batch(batch_id: int) -> Select[int]:
    """The ids of the outbox rows that carry ``batch_id``."""
    return select(m.OutboxBatch.outbox_id).where(m.OutboxBatch.batch_id == batch_id)


def _move_receipts(
    session: Session,
    batch_ids: Sequence[int],
    state: ReceiptState,
) -> None:
    """The receipts of ``batch_ids`` (erased ones excepted) move to ``state``, in one statement;
    those already in it are not rewritten (a dropped submitted batch's receipts are batched)."""
    session.execute(
        update(m.Receipt)
        .where(
            m.Receipt.batch_id.in_(list(batch_ids)),
            m.Receipt.state.not_in([ReceiptState.ERASED.value, state.value]),
        )
        .values(state=state.value, updated_at=m.utcnow())
    )


def _set_anchored(
    row: m.Batch, tx_hash: bytes, block_number: int, block_hash: bytes, now: datetime
) -> None:
    row.state = BatchState.ANCHORED.value
    row.tx_hash = bytes(tx_hash)
    row.block_number = block_number
    row.block_hash = bytes(block_hash)
    row.anchored_at = now
    row.submitted_at = row.submitted_at or now
    row.failure_reason = None


def _mark_mined(session: Session, carrying: Select[int], tx_hash: bytes) -> None:
    """The in-flight outbox rows of ``tx_hash`` among ``carrying`` become mined once every
    batch they carry is anchored (flushed first)."""
    carried = select(m.Outbox.id).where(
        m.Outbox.id.in_(carrying),
        m.Outbox.tx_hash == bytes(tx_hash),
        m.Outbox.state.in_(_IN_FLIGHT),
    )
    for outbox_id in list(session.scalars(carried)):
        others = (
            select(func.count())
            .select_from(m.OutboxBatch)
            .join(m.Batch, m.Batch.id == m.OutboxBatch.batch_id)
            .where(
                m.OutboxBatch.outbox_id == outbox_id,
                m.Batch.state != BatchState.ANCHORED.value,
            )
        )
        if not session.scalar(others):
            session.execute(
                update(m.Outbox)
                .where(m.Outbox.id == outbox_id)
                .values(state=OutboxState.MINED.value)
            )


class SubmissionMixin(StoreBase):
    """Batches and outbox for the submitter; see `anchor.store.Store`."""

    def next_batch_for_submission(self, issuer_id: int | None = None) -> Batch | None:
        """Return the oldest frozen batch (of the body ``issuer_id`` when given), or None when
        nothing waits for submission."""
        found = self.frozen_batches(None if issuer_id is None else [issuer_id], limit=1)
        return found[0] if found else None

    def frozen_batches(self, issuer_ids: Sequence[int] | None, limit: int) -> list[Batch]:
        """Up to ``limit`` frozen batches, oldest first, of the bodies ``issuer_ids`` (of any
        body, and of none, when None)."""
        query = select(m.Batch).where(m.Batch.state == BatchState.FROZEN.value)
        if issuer_ids is not None:
            query = query.where(m.Batch.issuer_id.in_(list(issuer_ids)))
        with self._reading() as session:
            rows = session.scalars(query.order_by(m.Batch.id).limit(limit))
            return [Batch.of(row) for row in rows]

    def batches_in_state(self, state: BatchState) -> list[Batch]:
        """Return every batch in ``state``, oldest first (e.g. the submitted ones to confirm)."""
        query = select(m.Batch).where(m.Batch.state == state.value).order_by(m.Batch.id)
        with self._reading() as session:
            return [Batch.of(row) for row in session.scalars(query)]

    def record_signed_tx(
        self,
        batch_ids: int | Sequence[int],
        nonce: int,
        signer: str,
        raw_tx: bytes,
        tx_hash: bytes,
        *,
        max_fee_per_gas: int | None = None,
        max_priority_fee_per_gas: int | None = None,
        gas_price: int | None = None,
        replaces: int | None = None,
    ) -> OutboxEntry:
        """Persist a signed transaction BEFORE broadcasting it; return its outbox row (signed).

        ``batch_ids`` are the batches whose anchors it carries (one, or many for a relayed
        transaction). ``replaces`` names the outbox row this one supersedes with the same nonce
        (a fee bump): that row becomes ``replaced`` in the same transaction. StoreError if the
        signer already has a live row with this nonce, or a batch is not frozen or submitted.
        ``signer`` is compared exactly: always pass the same (checksum) form of the address.
        """
        ids = sorted({batch_ids} if isinstance(batch_ids, int) else set(batch_ids))
        with self._transaction() as session:
            return _record(
                session, ids, nonce, signer, raw_tx, tx_hash, max_fee_per_gas,
                max_priority_fee_per_gas, gas_price, replaces,
            )  # fmt: skip

    def record_signed_submission(
        self,
        batch_ids: Sequence[int],
        nonce: int,
        signer: str,
        raw_tx: bytes,
        tx_hash: bytes,
        *,
        max_fee_per_gas: int | None = None,
        max_priority_fee_per_gas: int | None = None,
        gas_price: int | None = None,
    ) -> tuple[OutboxEntry, list[Batch]]:
        """`record_signed_tx` of a new transaction and `mark_batches_submitted` of every batch
        it carries, in ONE store transaction, BEFORE it is broadcast: its outbox row (signed)
        and the batches (submitted). Every batch must be frozen (InvalidTransitionError, and
        nothing is written, otherwise). A crash after it leaves a signed row whose batches are
        submitted: the next step rebroadcasts the same bytes, as after a crash between
        ``mark_batches_submitted`` and the broadcast.
        """
        ids = sorted(set(batch_ids))
        with self._transaction() as session:
            entry = _record(
                session, ids, nonce, signer, raw_tx, tx_hash, max_fee_per_gas,
                max_priority_fee_per_gas, gas_price, None,
            )  # fmt: skip
            return entry, _submit(session, ids, tx_hash)

    def mark_broadcast(self, outbox_id: int) -> OutboxEntry:
        """Mark an outbox row broadcast (idempotent for a rebroadcast of the same bytes)."""
        with self._transaction() as session:
            row = session.get(m.Outbox, outbox_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no outbox row {outbox_id}")
            if row.state not in _IN_FLIGHT:
                raise InvalidTransitionError(f"outbox row {outbox_id}", row.state, "broadcast")
            if row.state == OutboxState.SIGNED.value:
                row.state = OutboxState.BROADCAST.value
                row.broadcast_at = m.utcnow()
            return _entries(session, [row])[0]

    def live_outbox(self, signer: str) -> list[OutboxEntry]:
        """Return the signer's signed or broadcast rows, lowest nonce first.

        These are the transactions not yet known to be final: unmined ones, and mined ones whose
        batch waits for depth (a row becomes ``mined`` only when its batch is anchored). The
        submitter compares their nonces with the chain's transaction count to find a nonce gap.
        """
        query = (
            select(m.Outbox)
            .where(m.Outbox.signer == signer, m.Outbox.state.in_(_IN_FLIGHT))
            .order_by(m.Outbox.nonce, m.Outbox.id)
        )
        with self._reading() as session:
            return _entries(session, list(session.scalars(query)))

    def outbox_of_batch(self, batch_id: int) -> list[OutboxEntry]:
        """Return every outbox row that carries a batch, oldest first, whatever its state."""
        query = select(m.Outbox).where(m.Outbox.id.in_(_rows_of_batch(batch_id)))
        with self._reading() as session:
            return _entries(session, list(session.scalars(query.order_by(m.Outbox.id))))

    def outbox_of_batches(self, batch_ids: Sequence[int]) -> dict[int, list[OutboxEntry]]:
        """`outbox_of_batch` for many batches in one read: each id to its rows, oldest first
        (an empty list for a batch no transaction carries)."""
        ids = sorted(set(batch_ids))
        found: dict[int, list[OutboxEntry]] = {i: [] for i in ids}
        if not ids:
            return found
        carrying = select(m.OutboxBatch.outbox_id).where(m.OutboxBatch.batch_id.in_(ids))
        query = select(m.Outbox).where(m.Outbox.id.in_(carrying)).order_by(m.Outbox.id)
        with self._reading() as session:
            for entry in _entries(session, list(session.scalars(query))):
                for batch_id in entry.batch_ids:
                    if batch_id in found:
                        found[batch_id].append(entry)
        return found

    def mark_batch_submitted(self, batch_id: int, tx_hash: bytes) -> Batch:
        """frozen -> submitted, with the broadcast transaction's hash; its receipts read as
        submitted from then on (their rows are not rewritten)."""
        return self.mark_batches_submitted([batch_id], tx_hash)[0]

    def mark_batches_submitted(self, batch_ids: Sequence[int], tx_hash: bytes) -> list[Batch]:
        """`mark_batch_submitted` for every batch a transaction carries, in ONE transaction."""
        with self._transaction() as session:
            return _submit(session, list(batch_ids), tx_hash)

    def mark_batch_anchored(
        self, batch_id: int, tx_hash: bytes, block_number: int, block_hash: bytes
    ) -> Batch:
        """frozen/submitted -> anchored (final), and its receipts read as anchored (their rows
        are not rewritten, `records.receipt_state`); that tx's row -> mined once every batch it
        carries is anchored."""
        return self.mark_batches_anchored([batch_id], tx_hash, block_number, block_hash)[0]

    def mark_batches_anchored(
        self, batch_ids: Sequence[int], tx_hash: bytes, block_number: int, block_hash: bytes
    ) -> list[Batch]:
        """`mark_batch_anchored` for every batch one transaction carries, in ONE store
        transaction (all or none) and at one ``anchored_at``, each batch named once.

        Set-wise: the batches' rows locked and checked in one query, the outbox rows of
        ``tx_hash`` that carry them looked up once (one statement per row then, and one row in
        all but a fee bump's history), no receipt row written: the per-batch
        form took 180-400 ms for the 35 batches of a relayed transaction under the bench's
        intake, on the path of every receipt it carries (bench/README.md, latency4).
        """
        ids = list(dict.fromkeys(batch_ids))
        if len(ids) != len(batch_ids):
            raise StoreError("a batch is named twice")
        with self._transaction() as session:
            now = m.utcnow()
            rows = _batches(session, ids, (BatchState.FROZEN, BatchState.SUBMITTED), "anchored")
            for row in rows:
                _set_anchored(row, tx_hash, block_number, block_hash, now)
            session.flush()
            carrying = select(m.OutboxBatch.outbox_id).where(m.OutboxBatch.batch_id.in_(ids))
            _mark_mined(session, carrying, tx_hash)
            return [Batch.of(row) for row in rows]

    def return_batch_to_submission(
        self,
        batch_id: int,
        reason: FailureCause,
        *,
        outbox_state: OutboxState = OutboxState.DROPPED,
    ) -> Batch:
        """submitted/anchored -> frozen after a drop, a replacement, a reorg or a mined revert.

        Its live outbox rows become ``outbox_state`` (dropped or replaced), the chain fields are
        cleared, ``reason`` is kept in ``failure_reason``, and its receipts read as batched
        again (rows an earlier version moved to submitted or anchored are moved back). The
        batch's root and proofs are untouched: the same root is submitted again.
        """
        if outbox_state not in (OutboxState.DROPPED, OutboxState.REPLACED):
            raise StoreError("outbox_state must be dropped or replaced")
        with self._transaction() as session:
            row = _batch(session, batch_id, (BatchState.SUBMITTED, BatchState.ANCHORED), "frozen")
            row.state = BatchState.FROZEN.value
            row.tx_hash = row.block_hash = row.block_number = None
            row.submitted_at = row.anchored_at = None
            row.failure_reason = reason
            session.execute(
                update(m.Outbox)
                .where(m.Outbox.id.in_(_rows_of_batch(batch_id)), m.Outbox.state.in_(_LIVE))
                .values(state=outbox_state.value)
            )
            _move_receipts(session, [batch_id], ReceiptState.BATCHED)
            return Batch.of(row)

    def mark_batch_failed(self, batch_id: int, reason: FailureCause) -> Batch:
        """frozen/submitted -> failed for a permanent cause; receipts -> failed.

        Outbox rows are left as they are: the submitter knows whether a nonce was consumed.
        """
        with self._transaction() as session:
            row = _batch(session, batch_id, (BatchState.FROZEN, BatchState.SUBMITTED), "failed")
            row.state = BatchState.FAILED.value
            row.failure_reason = reason
            _move_receipts(session, [batch_id], ReceiptState.FAILED)
            return Batch.of(row)

    def anchored_batches_since(self, block_number: int) -> list[Batch]:
        """Anchored batches whose block is at or above ``block_number``, lowest block first.

        The submitter re-checks that each ``block_hash`` is still canonical after a reorg.
        """
        query = (
            select(m.Batch)
            .where(m.Batch.state == BatchState.ANCHORED.value, m.Batch.block_number >= block_number)
            .order_by(m.Batch.block_number, m.Batch.id)
        )
        with self._reading() as session:
            return [Batch.of(row) for row in session.scalars(query)]

    def note_hold(self, batch_id: int, reason: FailureCause) -> Batch:
        """Record why a frozen batch waits (a paused registry, a missing role); no transition."""
        with self._transaction() as session:
            row = _batch(session, batch_id, (BatchState.FROZEN,), "held")
            row.failure_reason = reason
            return Batch.of(row)

    def retry_failed_batches(self, batch_id: int | None = None) -> list[Batch]:
        """failed -> frozen for one batch (``batch_id``) or for every failed batch.

        The receipts go back to batched, their proofs untouched; the batch's signed or broadcast
        outbox rows become dropped (a failed batch's transaction, if any, was mined and reverted).
        The submitter then sends the same root again. NotFoundError or InvalidTransitionError when
        ``batch_id`` names no batch or one that is not failed.
        """
        with self._transaction() as session:
            if batch_id is not None:
                rows = [_batch(session, batch_id, (BatchState.FAILED,), "frozen")]
            else:
                query = (
                    select(m.Batch)
                    .where(m.Batch.state == BatchState.FAILED.value)
                    .order_by(m.Batch.id)
                    .with_for_update()
                )
                rows = list(session.scalars(query))
            for row in rows:
                row.state = BatchState.FROZEN.value
                session.execute(
                    update(m.Outbox)
                    .where(m.Outbox.id.in_(_rows_of_batch(row.id)), m.Outbox.state.in_(_IN_FLIGHT))
                    .values(state=OutboxState.DROPPED.value)
                )
                session.execute(
                    update(m.Receipt)
                    .where(
                        m.Receipt.batch_id == row.id,
                        m.Receipt.state == ReceiptState.FAILED.value,
                    )
                    .values(state=ReceiptState.BATCHED.value, updated_at=m.utcnow())
                )
            return [Batch.of(row) for row in rows]

    def list_batches(
        self, states: tuple[BatchState, ...] = (), limit: int = 100, *, newest_first: bool = True
    ) -> list[Batch]:
        """Return up to ``limit`` batches in ``states`` (every state when empty), by id."""
        query = select(m.Batch)
        if states:
            query = query.where(m.Batch.state.in_([s.value for s in states]))
        order = m.Batch.id.desc() if newest_first else m.Batch.id
        with self._reading() as session:
            return [Batch.of(row) for row in session.scalars(query.order_by(order).limit(limit))]
