"""Intake: validate digests and commit them as pending receipts before anyone is told "202".

`submit` validates every digest first (nothing is stored if one is malformed), then writes all
receipts, and the idempotency record when a key is given, in ONE transaction with one bulk
``executemany`` insert, and returns only after the commit. A retry with the same
Idempotency-Key and the same digests (same order) returns the same receipts; the same key with
different digests raises `IdempotencyConflict`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anchor.errors import AnchorError
from anchor.store import Receipt, Store
from anchor.store import models as m
from anchor.store.errors import IdempotencyConflict, StoreError
from anchor.types import Digest, InvalidDigestError, ReceiptState

__all__ = ["MAX_KEY_LENGTH", "new_receipt_id", "parse_digests", "submit"]

MAX_KEY_LENGTH = 255


class _KeyRaceError(AnchorError):
    """Another transaction committed the same idempotency key first; read its answer."""


def new_receipt_id() -> str:
    """A fresh receipt id: 128 random bits, URL-safe base64 (22 characters)."""
    return secrets.token_urlsafe(16)


def parse_digests(digests: Sequence[str | Digest]) -> list[Digest]:
    """Parse every digest; raise InvalidDigestError naming the first bad one's index and problem."""
    if isinstance(digests, str | bytes):
        raise InvalidDigestError("expected a list of digests, got a single value")
    if not digests:
        raise InvalidDigestError("no digests given: submit at least one")
    parsed: list[Digest] = []
    for index, value in enumerate(digests):
        if isinstance(value, Digest):
            parsed.append(value)
            continue
        try:
            parsed.append(Digest.from_hex(value))
        except InvalidDigestError as e:
            raise e.at(index) from None
    return parsed


def submit(
    store: Store,
    digests: Sequence[str | Digest],
    integrator_id: int,
    idempotency_key: str | None = None,
) -> list[Receipt]:
    """Durably take ``digests`` for the integrator; return one pending receipt per digest.

    Raise InvalidDigestError (nothing stored) for a malformed digest, IdempotencyConflict when the
    key was used for different digests, StoreError when the database fails.
    """
    parsed = parse_digests(digests)
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_KEY_LENGTH:
        raise StoreError(f"an Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    fingerprint = hashlib.sha256(b"".join(d.bytes for d in parsed)).digest()
    for _attempt in range(3):
        try:
            with store.connection() as conn:
                return _submit_in(conn, parsed, integrator_id, idempotency_key, fingerprint)
        except _KeyRaceError:
            continue
    raise StoreError("the Idempotency-Key is contended; retry the request")


def _submit_in(
    conn: Connection,
    parsed: list[Digest],
    integrator_id: int,
    key: str | None,
    fingerprint: bytes,
) -> list[Receipt]:
    now = m.utcnow()
    ids = [new_receipt_id() for _ in parsed]
    if key is not None:
        earlier = _replay(conn, integrator_id, key, fingerprint)
        if earlier is not None:
            return earlier
        try:
            conn.execute(
                insert(m.IdempotencyRecord),
                [
                    {
                        "integrator_id": integrator_id,
                        "key": key,
                        "fingerprint": fingerprint,
                        "receipt_ids": ids,
                        "created_at": now,
                    }
                ],
            )
        except IntegrityError as e:
            raise _KeyRaceError() from e
    _insert_receipts(conn, ids, parsed, integrator_id, key, now)
    return [
        Receipt(
            id=rid,
            integrator_id=integrator_id,
            digest=d,
            state=ReceiptState.PENDING,
            batch_id=None,
            value_index=None,
            salt=None,
            leaf=None,
            proof=(),
            idempotency_key=key,
            created_at=now,
            updated_at=now,
            erased_at=None,
        )
        for rid, d in zip(ids, parsed, strict=True)
    ]


_COLUMNS = ("id", "integrator_id", "digest", "idempotency_key", "state", "created_at", "updated_at")
_INSERT_SQL = {
    mark: f"INSERT INTO receipts ({', '.join(_COLUMNS)}) VALUES ({', '.join([mark] * 7)})"  # noqa: S608
    for mark in ("?", "%s")
}
"""The bulk insert, per driver placeholder style (constant names; every value is bound)."""


def _insert_receipts(
    conn: Connection,
    ids: list[str],
    parsed: list[Digest],
    integrator_id: int,
    key: str | None,
    now: datetime,
) -> None:
    """Insert pending receipts with ONE driver ``executemany``, in the session's transaction.

    The fast path: the timestamp goes through the column type's bind processing once, not once
    per row, and no ORM unit of work or per-row SQLAlchemy parameter processing is involved.
    """
    dialect = conn.dialect
    to_db = m.RECEIPTS.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    stamp = to_db(now) if to_db is not None else now
    sql = _INSERT_SQL["?" if dialect.paramstyle == "qmark" else "%s"]
    pending = ReceiptState.PENDING.value
    rows = [
        (rid, integrator_id, d.bytes, key, pending, stamp, stamp)
        for rid, d in zip(ids, parsed, strict=True)
    ]
    # One row: a plain execute (psycopg's executemany adds a pipeline round trip).
    conn.exec_driver_sql(sql, rows[0] if len(rows) == 1 else rows)


def _replay(
    conn: Connection, integrator_id: int, key: str, fingerprint: bytes
) -> list[Receipt] | None:
    """The receipts of an earlier request with this key, None if there was none."""
    record = conn.execute(
        select(m.IdempotencyRecord.fingerprint, m.IdempotencyRecord.receipt_ids).where(
            m.IdempotencyRecord.integrator_id == integrator_id, m.IdempotencyRecord.key == key
        )
    ).first()
    if record is None:
        return None
    if bytes(record.fingerprint) != fingerprint:
        raise IdempotencyConflict(key)
    receipt_ids: list[str] = record.receipt_ids
    with Session(bind=conn) as session:  # joins the connection's transaction
        found = {
            row.id: row
            for row in session.scalars(select(m.Receipt).where(m.Receipt.id.in_(receipt_ids)))
        }
        return [Receipt.of(found[rid]) for rid in receipt_ids]
