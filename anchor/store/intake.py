"""Taking receipts: one transaction, one bulk insert, and the Idempotency-Key replay.

`IntakeMixin.add_receipts` writes all receipts of a request, and its idempotency record when a
key is given (as a keyed hash, never the key itself: `anchor.store.pepper`), with one bulk
insert for its whole group (`anchor.store._sql.RowsInsert`), and returns only after the commit.
Concurrent requests of one process share their transaction and its commit (`anchor.store.group`:
group commit); one that fails in the group runs again alone. A retry with the same key and the
same digests (same order) returns the same receipts; the same key with other digests
raises `IdempotencyConflict`.
"""

from __future__ import annotations

import asyncio
import binascii
import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anchor.errors import AnchorError
from anchor.store import models as m
from anchor.store._base import StoreBase
from anchor.store._sql import RowsInsert, bound_timestamp
from anchor.store.errors import IdempotencyConflict, NoIssuerError, StoreError
from anchor.store.group import Deferred, Job, group_of
from anchor.store.records import Receipt
from anchor.types import Digest, ReceiptState

__all__ = ["IntakeMixin", "new_receipt_id", "new_receipt_ids"]

_KEY_ATTEMPTS = 3


class _KeyRaceError(AnchorError):
    """Another transaction committed the same idempotency key first; read its answer."""


ID_TIME_BYTES = 6
"""The first bytes of a receipt id's 16: its time of making in milliseconds since the Unix
epoch, big-endian (8 of its 22 characters); the other 10 bytes (80 bits) are random."""

_ID_RANDOM_BYTES = 10
_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def new_receipt_id(at: datetime | None = None) -> str:
    """A fresh receipt id, as `new_receipt_ids` makes them."""
    return new_receipt_ids(1, at)[0]


def new_receipt_ids(count: int, at: datetime | None = None) -> list[str]:
    """``count`` fresh receipt ids: 16 bytes each in URL-safe base64 (22 characters, no
    padding), the first `ID_TIME_BYTES` the time ``at`` (else now) in milliseconds since the
    Unix epoch, the other 10 random, from ONE draw of the operating system's CSPRNG.

    Why the time first: the id is the primary key of ``receipts`` (and of a typed document's
    facts), and keys drawn at random put each request's rows all over that index. Ids of the
    same seconds share their first characters, so they go into the same few index pages: on a
    scratch copy of the store's schema (the raw driver, 100 rows a transaction, 50,000 to
    150,000 receipts) 7.0-7.7 instead of 11.7-19.4 µs of CPU a digest for the insert, the gap
    growing with the table (bench/README.md, session 12). An id tells whoever holds it (its
    integrator; a status change's id, its body) when it was made, as the row's ``created_at``
    does; 80 random bits keep it unguessable. The time's first six bits are zero until the year
    2109, so an id starts with ``A``, never with ``-`` (a command line would take such an id for
    an option: `anchor proof -abc`).
    """
    moment = at or m.utcnow()
    stamp = int(moment.timestamp() * 1000).to_bytes(ID_TIME_BYTES, "big")
    raw = secrets.token_bytes(_ID_RANDOM_BYTES * count)
    b2a = binascii.b2a_base64
    return [
        b2a(stamp + raw[i : i + _ID_RANDOM_BYTES], newline=False)[:22]
        .translate(_URL_SAFE)
        .decode("ascii")
        for i in range(0, _ID_RANDOM_BYTES * count, _ID_RANDOM_BYTES)
    ]


_HASH_PIECE = 63
"""Digests fed to SHA-256 at a time by `request_fingerprint`: 2,016 bytes, under the 2,048 from
which hashlib gives up the GIL."""


def request_fingerprint(digests: Sequence[Digest]) -> bytes:
    """SHA-256 of the digests' bytes in order: what an Idempotency-Key's record holds of its
    request (`IdempotencyRecord.fingerprint`), and what a replay must match.

    Fed in pieces of `_HASH_PIECE` digests: for a larger piece hashlib releases the GIL, and the
    API's event loop, which makes this, must then take it back from the worker's and the
    committer's threads. py-spy under the 100-digest load put a ninth of the loop's samples on
    the one-piece hash, which itself costs microseconds: most of it, we infer, was that wait
    (bench/README.md, session 13). The hash is the same as of the whole at once.
    """
    h = hashlib.sha256()
    for at in range(0, len(digests), _HASH_PIECE):
        h.update(b"".join([d.bytes for d in digests[at : at + _HASH_PIECE]]))
    return h.digest()


class IntakeMixin(StoreBase):
    """Durable intake of pending receipts; see `anchor.store.Store`."""

    def add_receipts(
        self,
        digests: Sequence[Digest],
        integrator_id: int,
        idempotency_key: str | None = None,
        *,
        issuer_id: int | None = None,
    ) -> list[Receipt]:
        """Commit one pending receipt per digest (in order) and return them after the commit.

        Each receipt belongs to the integrator's body: ``issuer_id`` as the API read it with the
        caller's key, else read here first. Raise NoIssuerError for an integrator without a
        body, IdempotencyConflict when the key was used for other digests, StoreError when the
        database fails or the key stays contended.
        """
        body = issuer_id if issuer_id is not None else self._body_of(integrator_id)
        if body is None:
            raise NoIssuerError(integrator_id)
        return commit_intake(
            self, self._receipts_job(digests, integrator_id, idempotency_key, body)
        )

    def add_receipts_later(
        self,
        digests: Sequence[Digest],
        integrator_id: int,
        idempotency_key: str | None = None,
        *,
        issuer_id: int,
    ) -> asyncio.Future[list[Receipt]]:
        """`add_receipts` for an event loop (call it on the running loop): queue the receipts
        for the group commit and return at once a future of the loop; it gets them after their
        commit (or the same exceptions).

        The body must be given (the API has it from the caller's key): nothing is read here.
        """
        job = self._receipts_job(digests, integrator_id, idempotency_key, issuer_id)
        return commit_intake_later(self, job)

    def _receipts_job(
        self, digests: Sequence[Digest], integrator_id: int, key: str | None, body: int
    ) -> Job[list[Receipt]]:
        """The intake job of `add_receipts`: the receipts and the idempotency record of ``key``
        (stored as its keyed token), in the transaction it is given."""
        owner = (integrator_id, body)
        token = None if key is None else self.key_hasher.token(integrator_id, key)
        # unused without a key: no record is written
        fingerprint = bytes(32) if token is None else request_fingerprint(digests)
        return lambda conn, deferred: _add_in(
            conn, deferred, digests, owner, token, fingerprint, key
        )

    def _body_of(self, integrator_id: int) -> int | None:
        return body_of(self, integrator_id)


def body_of(store: StoreBase, integrator_id: int) -> int | None:
    """The body of an integrator (None: none, or no such integrator)."""
    query = select(m.Integrator.issuer_id).where(m.Integrator.id == integrator_id)
    with store._reading() as session:
        return session.scalar(query)


def commit_intake(store: StoreBase, job: Job[list[Receipt]]) -> list[Receipt]:
    """Run an intake ``job`` through the group commit (with concurrent requests' rows), or alone
    when it must be retried: an Idempotency-Key raced by another request is tried again, up to
    `_KEY_ATTEMPTS` times. The receipts come back after their commit."""
    return group_of(store.engine, store._connection).run(job, _alone(store, job))


def commit_intake_later(store: StoreBase, job: Job[list[Receipt]]) -> asyncio.Future[list[Receipt]]:
    """`commit_intake` without waiting: the future gets the receipts after their commit."""
    return group_of(store.engine, store._connection).submit(job, _alone(store, job))


def _alone(store: StoreBase, job: Job[list[Receipt]]) -> Callable[[], list[Receipt]]:
    """``job`` in a transaction of its own, tried again when its Idempotency-Key was raced."""

    def alone() -> list[Receipt]:
        for _attempt in range(_KEY_ATTEMPTS):
            try:
                with store._connection() as conn:
                    deferred = Deferred()
                    receipts = job(conn, deferred)
                    deferred.flush(conn)
                    return receipts
            except _KeyRaceError:
                continue
        raise StoreError("the Idempotency-Key is contended; retry the request")

    return alone


def _add_in(
    conn: Connection,
    deferred: Deferred,
    digests: Sequence[Digest],
    owner: tuple[int, int],
    key: str | None,
    fingerprint: bytes,
    given_key: str | None,
    also: Callable[[Connection, list[str]], None] | None = None,
) -> list[Receipt]:
    """Insert under the stored token ``key`` for ``owner`` (integrator, body); ``given_key``
    only names a conflict to the caller. ``also`` writes more rows of the new receipts (their
    ids) in the same transaction; a replay returns the earlier receipts without calling it.

    The receipts' rows are ``deferred`` to the end of the transaction (with the other requests'
    of its group), ``also`` after them; the idempotency record is written at once, so that a
    race on its key fails here, in this job.
    """
    integrator_id, issuer_id = owner
    now = m.utcnow()
    ids = new_receipt_ids(len(digests), now)
    if key is not None:
        earlier = _replay(conn, deferred, integrator_id, key, fingerprint, given_key or key)
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
    _insert_receipts(conn, deferred, ids, digests, owner, key, now)
    if also is not None:
        deferred.after(lambda later: also(later, ids))
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
            issuer_id=issuer_id,
        )
        for rid, d in zip(ids, digests, strict=True)
    ]


_INSERT = RowsInsert(
    "receipts",
    (
        "id",
        "integrator_id",
        "issuer_id",
        "digest",
        "idempotency_key",
        "state",
        "created_at",
        "updated_at",
    ),
    ("text", "int4", "int4", "bytea", "text", "text", "timestamptz", "timestamptz"),
)


def _insert_receipts(
    conn: Connection,
    deferred: Deferred,
    ids: list[str],
    digests: Sequence[Digest],
    owner: tuple[int, int],
    key: str | None,
    now: datetime,
) -> None:
    """Defer pending receipts' rows to the transaction's end: ONE bulk insert for the whole
    group (`anchor.store.group.Deferred`, `anchor.store._sql.RowsInsert`).

    The fast path: the timestamp goes through the column type's bind processing once, not once
    per row, and no ORM unit of work or per-row SQLAlchemy parameter processing is involved.
    """
    stamp = bound_timestamp(conn, m.RECEIPTS.c.created_at, now)
    pending = ReceiptState.PENDING.value
    integrator_id, issuer_id = owner
    rows = [
        (rid, integrator_id, issuer_id, d.bytes, key, pending, stamp, stamp)
        for rid, d in zip(ids, digests, strict=True)
    ]
    deferred.insert(_INSERT, rows)


def _replay(
    conn: Connection,
    deferred: Deferred,
    integrator_id: int,
    key: str,
    fingerprint: bytes,
    given_key: str,
) -> list[Receipt] | None:
    """The receipts of an earlier request with this key, None if there was none (the earlier
    request may be of this transaction: its deferred rows are written first)."""
    record = conn.execute(
        select(m.IdempotencyRecord.fingerprint, m.IdempotencyRecord.receipt_ids).where(
            m.IdempotencyRecord.integrator_id == integrator_id, m.IdempotencyRecord.key == key
        )
    ).first()
    if record is None:
        return None
    if bytes(record.fingerprint) != fingerprint:
        raise IdempotencyConflict(given_key)
    deferred.flush(conn)
    receipt_ids: list[str] = record.receipt_ids
    with Session(bind=conn) as session:  # joins the connection's transaction
        found = {
            row.id: row
            for row in session.scalars(select(m.Receipt).where(m.Receipt.id.in_(receipt_ids)))
        }
        # A replay may come after batching: each receipt reads with its batch's state.
        batch_ids = {row.batch_id for row in found.values() if row.batch_id is not None}
        states: dict[int | None, str] = {}
        if batch_ids:
            batches = select(m.Batch.id, m.Batch.state).where(m.Batch.id.in_(batch_ids))
            states.update((int(i), str(state)) for i, state in session.execute(batches))
        rows = [found[rid] for rid in receipt_ids]
        return [Receipt.of(row, states.get(row.batch_id)) for row in rows]
