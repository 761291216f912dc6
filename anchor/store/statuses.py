"""Status changes of documents: what integrators asked for, and the transaction that does it.

A change is stored ``pending`` before the API answers 202 (`StatusesMixin.request_status_change`),
at most one open (pending or sent) change per receipt, held by a partial unique index as well as
by the check in the same transaction. The worker then signs it with the body's status key and
records the raw transaction BEFORE broadcasting it (`record_status_tx`: pending -> sent), so a
killed process sends the same bytes again; it ends ``done`` once its receipt is deep enough, or
``failed`` with the registry's reason. Transitions (any other raises InvalidTransitionError)::

    pending -> sent      record_status_tx        (signed; the raw transaction is stored)
    sent    -> done      mark_status_done        (mined, deep enough, canonical)
    pending -> failed    mark_status_failed      (the registry refuses it: a revert is final)
    sent    -> failed    mark_status_failed      (mined and reverted)
    sent    -> pending   return_status_to_pending (its nonce went to another transaction)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anchor.store import models as m
from anchor.store._base import StoreBase
from anchor.store.errors import InvalidTransitionError, NotFoundError, StoreError
from anchor.store.intake import new_receipt_id
from anchor.types import OPEN_STATUS_CHANGE_STATES, StatusChangeKind, StatusChangeState

__all__ = ["ChangePendingError", "StatusChangeRecord", "StatusesMixin"]

_OPEN = [s.value for s in OPEN_STATUS_CHANGE_STATES]


class ChangePendingError(StoreError):
    """A change of this document is already pending or sent; the API answers 409."""

    def __init__(self, receipt_id: str, change_id: str, kind: str) -> None:
        self.receipt_id = receipt_id
        self.change_id = change_id
        super().__init__(
            f"a change of receipt {receipt_id!r} ({kind}, id {change_id!r}) is already pending: "
            "ask again once it is done or failed"
        )


@dataclass(frozen=True, slots=True)
class StatusChangeRecord:
    """One requested status change and where its transaction stands."""

    id: str
    receipt_id: str
    issuer_id: int
    kind: StatusChangeKind
    reason: int | None
    valid_until: date | None
    successor_id: str | None
    successor_root: bytes | None
    successor_leaf: bytes | None
    state: StatusChangeState
    error: str | None
    signer: str | None
    nonce: int | None
    raw_tx: bytes | None
    tx_hash: bytes | None
    block_number: int | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, row: m.StatusChange) -> StatusChangeRecord:
        """Copy an ORM row."""
        return cls(
            id=row.id,
            receipt_id=row.receipt_id,
            issuer_id=row.issuer_id,
            kind=StatusChangeKind(row.kind),
            reason=row.reason,
            valid_until=row.valid_until,
            successor_id=row.successor_id,
            successor_root=None if row.successor_root is None else bytes(row.successor_root),
            successor_leaf=None if row.successor_leaf is None else bytes(row.successor_leaf),
            state=StatusChangeState(row.state),
            error=row.error,
            signer=row.signer,
            nonce=row.nonce,
            raw_tx=None if row.raw_tx is None else bytes(row.raw_tx),
            tx_hash=None if row.tx_hash is None else bytes(row.tx_hash),
            block_number=row.block_number,
            created_at=row.created_at,
            updated_at=row.updated_at,
            sent_at=row.sent_at,
        )


def _change(
    session: Session, change_id: str, allowed: tuple[StatusChangeState, ...], to: str
) -> m.StatusChange:
    row = session.get(m.StatusChange, change_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"no status change {change_id!r}")
    if StatusChangeState(row.state) not in allowed:
        raise InvalidTransitionError(f"status change {change_id!r}", row.state, to)
    return row


def _open_of(session: Session, receipt_id: str) -> m.StatusChange | None:
    query = select(m.StatusChange).where(
        m.StatusChange.receipt_id == receipt_id, m.StatusChange.state.in_(_OPEN)
    )
    return session.scalars(query).first()


class StatusesMixin(StoreBase):
    """Requested status changes and their transactions; see `anchor.store.Store`."""

    def request_status_change(
        self,
        receipt_id: str,
        issuer_id: int,
        kind: StatusChangeKind,
        *,
        reason: int | None = None,
        valid_until: date | None = None,
        successor_id: str | None = None,
        successor_root: bytes | None = None,
        successor_leaf: bytes | None = None,
    ) -> StatusChangeRecord:
        """Store a pending change of the receipt's document and return it after the commit.

        ChangePendingError when a change of that receipt is pending or sent already (also
        when another request raced this one: the partial unique index decides).
        """
        now = m.utcnow()
        with self._transaction() as session:
            if session.get(m.Receipt, receipt_id) is None:
                raise NotFoundError(f"no receipt {receipt_id!r}")
            found = _open_of(session, receipt_id)
            if found is not None:
                raise ChangePendingError(receipt_id, found.id, found.kind)
            row = m.StatusChange(
                id=new_receipt_id(),
                receipt_id=receipt_id,
                issuer_id=issuer_id,
                kind=StatusChangeKind(kind).value,
                reason=reason,
                valid_until=valid_until,
                successor_id=successor_id,
                successor_root=successor_root,
                successor_leaf=successor_leaf,
                state=StatusChangeState.PENDING.value,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError as e:
                raise ChangePendingError(receipt_id, "(another request)", str(kind)) from e
            return StatusChangeRecord.of(row)

    def get_status_change(
        self, change_id: str, integrator_id: int | None = None
    ) -> StatusChangeRecord | None:
        """The change, or None (also when its receipt is another integrator's)."""
        query = select(m.StatusChange, m.Receipt.integrator_id).join(
            m.Receipt, m.Receipt.id == m.StatusChange.receipt_id
        )
        with self._reading() as session:
            found = session.execute(query.where(m.StatusChange.id == change_id)).first()
        if found is None or (integrator_id is not None and found[1] != integrator_id):
            return None
        return StatusChangeRecord.of(found[0])

    def open_status_change_of(self, receipt_id: str) -> StatusChangeRecord | None:
        """The pending or sent change of a receipt, or None."""
        with self._reading() as session:
            row = _open_of(session, receipt_id)
            return None if row is None else StatusChangeRecord.of(row)

    def open_status_changes(self, limit: int = 500) -> list[StatusChangeRecord]:
        """Up to ``limit`` pending or sent changes, oldest first (one indexed read)."""
        query = (
            select(m.StatusChange)
            .where(m.StatusChange.state.in_(_OPEN))
            .order_by(m.StatusChange.created_at, m.StatusChange.id)
            .limit(limit)
        )
        with self._reading() as session:
            return [StatusChangeRecord.of(row) for row in session.scalars(query)]

    def status_changes_of(self, receipt_id: str) -> list[StatusChangeRecord]:
        """Every change of a receipt, oldest first, whatever its state."""
        query = (
            select(m.StatusChange)
            .where(m.StatusChange.receipt_id == receipt_id)
            .order_by(m.StatusChange.created_at, m.StatusChange.id)
        )
        with self._reading() as session:
            return [StatusChangeRecord.of(row) for row in session.scalars(query)]

    def record_status_tx(
        self, change_id: str, signer: str, nonce: int, raw_tx: bytes, tx_hash: bytes
    ) -> StatusChangeRecord:
        """pending -> sent: persist the signed transaction BEFORE it is broadcast.

        ``signer`` is compared exactly by the sender: always the checksum address. StoreError
        when another open change of the same signer holds ``nonce`` (one nonce lane a key).
        """
        with self._transaction() as session:
            row = _change(session, change_id, (StatusChangeState.PENDING,), "sent")
            taken = select(m.StatusChange.id).where(
                m.StatusChange.signer == signer,
                m.StatusChange.nonce == nonce,
                m.StatusChange.state == StatusChangeState.SENT.value,
            )
            other = session.scalar(taken)
            if other is not None:
                raise StoreError(f"status change {other!r} of {signer} holds nonce {nonce}")
            row.state = StatusChangeState.SENT.value
            row.signer = signer
            row.nonce = nonce
            row.raw_tx = bytes(raw_tx)
            row.tx_hash = bytes(tx_hash)
            row.error = None
            row.updated_at = m.utcnow()
            return StatusChangeRecord.of(row)

    def mark_status_broadcast(self, change_id: str) -> StatusChangeRecord:
        """Note the first time a node accepted the sent transaction (idempotent)."""
        with self._transaction() as session:
            row = _change(session, change_id, (StatusChangeState.SENT,), "broadcast")
            if row.sent_at is None:
                row.sent_at = row.updated_at = m.utcnow()
            return StatusChangeRecord.of(row)

    def mark_status_done(self, change_id: str, block_number: int) -> StatusChangeRecord:
        """sent -> done: mined at ``block_number``, deep enough, on a canonical block."""
        with self._transaction() as session:
            row = _change(session, change_id, (StatusChangeState.SENT,), "done")
            row.state = StatusChangeState.DONE.value
            row.block_number = block_number
            row.error = None
            row.updated_at = m.utcnow()
            return StatusChangeRecord.of(row)

    def mark_status_failed(self, change_id: str, error: str) -> StatusChangeRecord:
        """pending/sent -> failed with one sentence saying why (a revert is final)."""
        with self._transaction() as session:
            allowed = (StatusChangeState.PENDING, StatusChangeState.SENT)
            row = _change(session, change_id, allowed, "failed")
            row.state = StatusChangeState.FAILED.value
            row.error = error
            row.updated_at = m.utcnow()
            return StatusChangeRecord.of(row)

    def note_status_error(self, change_id: str, error: str) -> StatusChangeRecord:
        """Record why an open change waits (a node refused it, the key lacks funds); no
        transition."""
        with self._transaction() as session:
            allowed = (StatusChangeState.PENDING, StatusChangeState.SENT)
            row = _change(session, change_id, allowed, "noted")
            if row.error != error:
                row.error = error
                row.updated_at = m.utcnow()
            return StatusChangeRecord.of(row)

    def return_status_to_pending(self, change_id: str, why: str) -> StatusChangeRecord:
        """sent -> pending: its nonce went to another transaction; it is signed again."""
        with self._transaction() as session:
            row = _change(session, change_id, (StatusChangeState.SENT,), "pending")
            row.state = StatusChangeState.PENDING.value
            row.signer = row.nonce = row.raw_tx = row.tx_hash = row.sent_at = None
            row.error = why
            row.updated_at = m.utcnow()
            return StatusChangeRecord.of(row)
