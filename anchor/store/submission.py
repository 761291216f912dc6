"""Batches and the transaction outbox, for the submitter.

Batch transitions (any other raises InvalidTransitionError)::

    frozen    -> submitted   mark_batch_submitted   (its signed tx was broadcast)
    frozen    -> anchored    mark_batch_anchored    (mined before the submitted mark, on restart)
    submitted -> anchored    mark_batch_anchored    (deep enough on a canonical block)
    submitted -> frozen      return_batch_to_submission (dropped, replaced, reorganised away)
    anchored  -> frozen      return_batch_to_submission (a later reorg removed its block)
    frozen    -> failed      mark_batch_failed      (a permanent cause: invalid batch, root taken)
    submitted -> failed      mark_batch_failed
    failed    -> frozen      retry_failed_batches   (`anchor batches retry`)

A frozen batch on hold (paused registry, missing role...) stays frozen; `note_hold` records the
cause in its ``failure_reason``. Receipts follow their batch (batched, submitted, anchored,
failed), except erased ones, which stay erased. Outbox rows: signed -> broadcast -> mined;
signed/broadcast -> replaced (a fee bump recorded with ``replaces=``); signed/broadcast/mined ->
dropped or replaced when the batch goes back to submission. At most one row per (signer, nonce)
is signed, broadcast or mined.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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


def _move_receipts(session: Session, batch_id: int, state: ReceiptState) -> None:
    session.execute(
        update(m.Receipt)
        .where(m.Receipt.batch_id == batch_id, m.Receipt.state != ReceiptState.ERASED.value)
        .values(state=state.value, updated_at=m.utcnow())
    )


class SubmissionMixin(StoreBase):
    """Batches and outbox for the submitter; see `anchor.store.Store`."""

    def next_batch_for_submission(self) -> Batch | None:
        """Return the oldest frozen batch, or None when nothing waits for submission."""
        query = (
            select(m.Batch)
            .where(m.Batch.state == BatchState.FROZEN.value)
            .order_by(m.Batch.id)
            .limit(1)
        )
        with self._reading() as session:
            row = session.scalar(query)
            return None if row is None else Batch.of(row)

    def batches_in_state(self, state: BatchState) -> list[Batch]:
        """Return every batch in ``state``, oldest first (e.g. the submitted ones to confirm)."""
        query = select(m.Batch).where(m.Batch.state == state.value).order_by(m.Batch.id)
        with self._reading() as session:
            return [Batch.of(row) for row in session.scalars(query)]

    def record_signed_tx(
        self,
        batch_id: int,
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

        ``replaces`` names the outbox row this one supersedes with the same nonce (a fee bump):
        that row becomes ``replaced`` in the same transaction. StoreError if the signer already
        has a live row with this nonce, or the batch is not frozen or submitted. ``signer`` is
        compared exactly: always pass the same (checksum) form of the address.
        """
        with self._transaction() as session:
            _batch(session, batch_id, (BatchState.FROZEN, BatchState.SUBMITTED), "signed")
            if replaces is not None:
                old = session.get(m.Outbox, replaces, with_for_update=True)
                if old is None:
                    raise NotFoundError(f"no outbox row {replaces}")
                if old.state not in _IN_FLIGHT:
                    raise InvalidTransitionError(f"outbox row {replaces}", old.state, "replaced")
                old.state = OutboxState.REPLACED.value
                session.flush()
            row = m.Outbox(
                batch_id=batch_id,
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
            return OutboxEntry.of(row)

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
            return OutboxEntry.of(row)

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
            return [OutboxEntry.of(row) for row in session.scalars(query)]

    def outbox_of_batch(self, batch_id: int) -> list[OutboxEntry]:
        """Return every outbox row of a batch, oldest first, whatever its state."""
        query = select(m.Outbox).where(m.Outbox.batch_id == batch_id).order_by(m.Outbox.id)
        with self._reading() as session:
            return [OutboxEntry.of(row) for row in session.scalars(query)]

    def mark_batch_submitted(self, batch_id: int, tx_hash: bytes) -> Batch:
        """frozen -> submitted, with the broadcast transaction's hash; receipts follow."""
        with self._transaction() as session:
            row = _batch(session, batch_id, (BatchState.FROZEN,), "submitted")
            row.state = BatchState.SUBMITTED.value
            row.tx_hash = bytes(tx_hash)
            row.submitted_at = m.utcnow()
            _move_receipts(session, batch_id, ReceiptState.SUBMITTED)
            return Batch.of(row)

    def mark_batch_anchored(
        self, batch_id: int, tx_hash: bytes, block_number: int, block_hash: bytes
    ) -> Batch:
        """frozen/submitted -> anchored (final); receipts -> anchored; that tx's row -> mined."""
        with self._transaction() as session:
            row = _batch(session, batch_id, (BatchState.FROZEN, BatchState.SUBMITTED), "anchored")
            now = m.utcnow()
            row.state = BatchState.ANCHORED.value
            row.tx_hash = bytes(tx_hash)
            row.block_number = block_number
            row.block_hash = bytes(block_hash)
            row.anchored_at = now
            row.submitted_at = row.submitted_at or now
            row.failure_reason = None
            session.execute(
                update(m.Outbox)
                .where(
                    m.Outbox.batch_id == batch_id,
                    m.Outbox.tx_hash == bytes(tx_hash),
                    m.Outbox.state.in_(_IN_FLIGHT),
                )
                .values(state=OutboxState.MINED.value)
            )
            _move_receipts(session, batch_id, ReceiptState.ANCHORED)
            return Batch.of(row)

    def return_batch_to_submission(
        self,
        batch_id: int,
        reason: FailureCause,
        *,
        outbox_state: OutboxState = OutboxState.DROPPED,
    ) -> Batch:
        """submitted/anchored -> frozen after a drop, a replacement, a reorg or a mined revert.

        Its live outbox rows become ``outbox_state`` (dropped or replaced), the chain fields are
        cleared, ``reason`` is kept in ``failure_reason``, and its receipts go back to batched.
        The batch's root and proofs are untouched: the same root is submitted again.
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
                .where(m.Outbox.batch_id == batch_id, m.Outbox.state.in_(_LIVE))
                .values(state=outbox_state.value)
            )
            _move_receipts(session, batch_id, ReceiptState.BATCHED)
            return Batch.of(row)

    def mark_batch_failed(self, batch_id: int, reason: FailureCause) -> Batch:
        """frozen/submitted -> failed for a permanent cause; receipts -> failed.

        Outbox rows are left as they are: the submitter knows whether a nonce was consumed.
        """
        with self._transaction() as session:
            row = _batch(session, batch_id, (BatchState.FROZEN, BatchState.SUBMITTED), "failed")
            row.state = BatchState.FAILED.value
            row.failure_reason = reason
            _move_receipts(session, batch_id, ReceiptState.FAILED)
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
                    .where(m.Outbox.batch_id == row.id, m.Outbox.state.in_(_IN_FLIGHT))
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
