"""Closing batches: read the oldest pending receipts of one body, seal them, freeze them.

Batches are per body: `BatchesMixin.backlogs` says, for every onboarded body with pending
receipts, how many wait, since when, and whether a frozen batch of it already waits for
submission; `BatchesMixin.close_due_batch` picks up to ``max_batch_size`` pending receipts of
one body (oldest first), and when the batch is due (full, or its oldest receipt
``max_batch_age`` seconds old) calls the caller's ``seal`` with their digests — the service
draws the salts and builds the tree there — then inserts the batch (frozen) and writes each
receipt's salt, leaf, value index and packed proof, in one transaction. The rows are read and
written through the driver (no ORM objects); the update of each receipt says ``AND state =
'pending'`` and the rows it changed are counted.

On SQLite a write transaction holds the database write lock, which every intake commit needs,
so the receipts are read in a read transaction and sealed before the write transaction
starts: the lock is held only to insert the batch and update the receipts. A receipt erased
or batched by another batcher in between makes the count differ: the write is rolled back
(nothing of it stays) and the batch is closed again with the read, the seal and the write
all under the lock, where nothing can change. On PostgreSQL the one transaction locks its
receipts with ``FOR UPDATE SKIP LOCKED``: row locks do not block the intake, and two batchers
take disjoint receipts. A crash anywhere rolls the write transaction back: the receipts stay
pending, no half batch exists. A frozen batch's root, leaf count and proofs are never written
again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, insert, select

from anchor.store import models as m
from anchor.store._base import StoreBase
from anchor.store._sql import bound_timestamp, driver_rows, driver_sql, timestamp_reader
from anchor.store.errors import StoreError
from anchor.types import BatchState, ReceiptState

__all__ = [
    "PENDING_BODIES",
    "PENDING_OLDEST",
    "Backlog",
    "BatchesMixin",
    "ClosedBatch",
    "ReceiptRow",
    "ReceiptsChangedError",
    "SealedBatch",
    "SealedLeaf",
    "fill_receipts",
    "pending_sql",
    "receipt_rows",
]


class ReceiptsChangedError(StoreError):
    """Some receipts of a batch being written were no longer pending (erased or batched)."""


@dataclass(frozen=True, slots=True)
class Backlog:
    """The pending receipts of one onboarded body, and whether a frozen batch of it waits."""

    issuer_id: int
    pending: int
    oldest: datetime
    frozen_waiting: bool


class SealedLeaf(NamedTuple):
    """One receipt's place in a sealed tree: its value index, salt, leaf and packed proof.

    A named tuple: a batch has one per receipt, and a tuple is built several times faster
    than a frozen dataclass instance.
    """

    value_index: int
    salt: bytes
    leaf: bytes
    packed_proof: bytes


class ClosedBatch(NamedTuple):
    """A batch just closed: its body, its id and how many receipts it holds."""

    issuer_id: int
    batch_id: int
    leaf_count: int


@dataclass(frozen=True, slots=True)
class SealedBatch:
    """The tree the service built over a batch's digests (in the order it was given them)."""

    root: bytes
    leaf_count: int
    leaves: Iterable[SealedLeaf]


Seal = Callable[[Sequence[bytes]], SealedBatch]
"""Builds the tree of the given digests: the salts are drawn and the tree built by the caller."""

_PENDING = driver_sql(
    "SELECT id, digest, created_at FROM receipts WHERE state = 'pending' AND issuer_id = ? "
    "ORDER BY created_at, id LIMIT ?"
)
"""Through ``ix_receipts_pending`` (issuer_id, created_at, id): read in index order, no sort."""

PENDING_BODIES = (
    "WITH RECURSIVE bodies(issuer_id) AS ("
    "SELECT min(issuer_id) FROM receipts WHERE state = 'pending' "
    "UNION ALL SELECT (SELECT min(r.issuer_id) FROM receipts r "
    "WHERE r.state = 'pending' AND r.issuer_id > b.issuer_id) "
    "FROM bodies b WHERE b.issuer_id IS NOT NULL) "
)
"""A ``WITH`` clause: ``bodies(issuer_id)``, every body with pending receipts (and one NULL
row last), by a skip scan of ``ix_receipts_pending``: the next body id after the last, one
index seek each. Neither SQLite nor PostgreSQL 15 skips through an index by itself, and a
``GROUP BY`` reads every pending receipt (50,000 under the 100-digest load). The state is
the literal of the index's predicate (`m.PENDING_PREDICATE`): a bound one would not match."""

PENDING_OLDEST = (
    "(SELECT min(r.created_at) FROM receipts r "
    "WHERE r.state = 'pending' AND r.issuer_id = b.issuer_id)"
)
"""The oldest pending receipt's ``created_at`` of the body ``b.issuer_id``: one index seek."""

_BACKLOGS = driver_sql(
    PENDING_BODIES,
    "SELECT b.issuer_id, (SELECT count(*) FROM (SELECT 1 FROM receipts r "
    "WHERE r.state = 'pending' AND r.issuer_id = b.issuer_id LIMIT ?) AS capped), ",
    PENDING_OLDEST,
    ", EXISTS (SELECT 1 FROM batches x WHERE x.issuer_id = b.issuer_id AND x.state = ?) "
    "FROM bodies b JOIN issuers i ON i.id = b.issuer_id WHERE i.chain_body_id IS NOT NULL",
)
"""Every onboarded body with pending receipts (`PENDING_BODIES`): its count up to the cap, its
oldest, whether a frozen batch of it waits. The ``GROUP BY`` this replaced read every pending
receipt at every worker step; this reads at most the cap of each body's."""

_NO_CAP = 2**62
"""The count's ``LIMIT`` when `BatchesMixin.backlogs` is given no cap."""


def pending_sql(conn: Connection, *, lock: bool) -> str:
    """The driver statement reading the oldest pending receipts of a body (id, digest,
    created_at); with ``lock`` on PostgreSQL, ``FOR UPDATE SKIP LOCKED`` (SQLite has no row
    locks: its write transaction holds the whole database)."""
    sql = _PENDING.for_dialect(conn)
    return sql + " FOR UPDATE SKIP LOCKED" if lock and conn.dialect.name != "sqlite" else sql


class BatchesMixin(StoreBase):
    """Freezing pending receipts into batches; see `anchor.store.Store`."""

    def backlogs(self, cap: int | None = None) -> list[Backlog]:
        """The pending receipts of every onboarded body that has some, oldest first; with
        ``cap``, a body's ``pending`` counts at most ``cap`` of them (the batcher needs to know
        only whether a batch is full, and counting costs a read of each receipt counted).

        A body not onboarded yet (no ``chain_body_id``) is left out: its receipts stay pending
        until it is. Receipts without a body (taken before bodies existed) are left out too.
        One driver statement on a read-only connection: the worker asks at every step, up to
        a hundred times a second in a block's send window, and through the ORM session this
        read was 58% of an idle worker's CPU (`bench/bench_stack_cpu.py idle`, py-spy).
        """
        if cap is not None and cap < 1:
            raise ValueError("cap must be >= 1")
        params = (_NO_CAP if cap is None else cap, BatchState.FROZEN.value)
        with self._guard(), self._read_engine().begin() as conn:
            rows = driver_rows(conn, _BACKLOGS.for_dialect(conn), params)
            to_python = timestamp_reader(conn, m.RECEIPTS.c.created_at)
        found = [
            Backlog(
                int(i),
                int(n),
                _creation_time(to_python, oldest, f"a pending receipt of body {i}"),
                bool(waiting),
            )
            for i, n, oldest, waiting in rows
        ]
        return sorted(found, key=lambda b: (b.oldest, b.issuer_id))

    def pending_count_of(self, issuer_id: int) -> int:
        """The number of receipts of a body waiting for a batch."""
        query = select(func.count()).where(m.PENDING_ONLY, m.Receipt.issuer_id == issuer_id)
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
        closed = self.close_due_batches(max_batch_size, [(issuer_id, max_batch_age)], seal, now)
        return closed[0].batch_id if closed else None

    def close_due_batches(
        self,
        max_batch_size: int,
        bodies: Sequence[tuple[int, float]],
        seal: Seal,
        now: datetime | None = None,
    ) -> list[ClosedBatch]:
        """Close one batch of each body of ``bodies`` (issuer id, its ``max_batch_age``) whose
        batch is due, all in ONE transaction (one commit, one fsync, for a whole send window's
        bodies); return them in the order of ``bodies``.

        On SQLite every body's receipts are read and sealed first, outside the write lock; a
        receipt changed meanwhile rolls the whole write back, and every body is closed again
        under the lock. ``now`` (timezone-aware) replaces the clock for the age rule.
        """
        moment = now or m.utcnow()
        dues = [_Due(max_batch_size, age, moment, issuer_id) for issuer_id, age in bodies]
        if self.dialect == "sqlite":
            with self._reading() as session:
                conn = session.connection()
                found = [(due, due.rows(conn, lock=False)) for due in dues]
            sealed = [(*_sealed_rows(seal, rows), due.issuer_id) for due, rows in found if rows]
            if not sealed:
                return []
            try:
                with self._connection() as conn:
                    return [_insert_frozen(conn, *one) for one in sealed]
            except ReceiptsChangedError:
                pass  # erased or batched since the read: rolled back; again, under the lock
        closed: list[ClosedBatch] = []
        with self._connection() as conn:
            for due in dues:
                rows = due.rows(conn, lock=True)
                if rows:
                    if not closed and conn.dialect.name != "sqlite":
                        conn.exec_driver_sql(_BY_PRIMARY_KEY)  # once, for the whole transaction
                    tree, ready = _sealed_rows(seal, rows)
                    closed.append(_insert_frozen(conn, tree, ready, due.issuer_id))
        return closed


@dataclass(frozen=True, slots=True)
class _Due:
    """The batching rule of one call: which receipts, and when they make a batch."""

    size: int
    age: float
    now: datetime
    issuer_id: int

    def rows(self, conn: Connection, *, lock: bool) -> list[Any]:
        """The oldest pending receipts (id, digest, created_at as the driver gives it) when
        they make a due batch, else an empty list. Read through the driver (`driver_rows`);
        only the oldest timestamp is converted."""
        params = (self.issuer_id, self.size)
        rows = driver_rows(conn, pending_sql(conn, lock=lock), params)
        if not rows or len(rows) >= self.size or self.age <= 0:
            return rows  # age 0: every pending receipt, whatever the clocks say of its time
        to_python = timestamp_reader(conn, m.RECEIPTS.c.created_at)
        oldest = _creation_time(to_python, rows[0][2], f"receipt {rows[0][0]}")
        return rows if (self.now - oldest).total_seconds() >= self.age else []


def _creation_time(to_python: Callable[[Any], Any], value: Any, of: str) -> datetime:
    """``value`` (a ``created_at`` as the driver gives it) as a datetime; StoreError naming
    ``of`` when there is none."""
    moment = to_python(value)
    if not isinstance(moment, datetime):
        raise StoreError(f"{of} has no creation time")
    return moment


ReceiptRow = tuple[str, int, bytes, bytes, bytes]
"""What a batch writes into one receipt: (receipt id, value index, salt, leaf, packed proof)."""

_value_index = itemgetter(1)


def receipt_rows(leaves: Iterable[SealedLeaf], receipt_ids: Sequence[str]) -> list[ReceiptRow]:
    """The rows of ``leaves`` (``receipt_ids[leaf.value_index]`` each), in value-index order:
    the read's order, so the update meets rows stored near each other."""
    rows = [(receipt_ids[i], i, salt, leaf, proof) for i, salt, leaf, proof in leaves]
    rows.sort(key=_value_index)
    return rows


def _sealed_rows(seal: Seal, pending: Sequence[Any]) -> tuple[SealedBatch, list[ReceiptRow]]:
    """Seal the digests of the ``pending`` rows (id, digest, ...) and compute every receipt's
    row now, before any write transaction: on SQLite no tree work and no per-row Python is
    left for the time the write lock is held."""
    sealed = seal([bytes(r[1]) for r in pending])
    return sealed, receipt_rows(sealed.leaves, [r[0] for r in pending])


def _insert_frozen(
    conn: Connection, sealed: SealedBatch, rows: Sequence[ReceiptRow], issuer_id: int
) -> ClosedBatch:
    now = m.utcnow()
    batch_id = conn.execute(
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
    fill_receipts(conn, int(batch_id), rows, now)
    return ClosedBatch(issuer_id, int(batch_id), sealed.leaf_count)


_FILL_ARRAYS = (
    "UPDATE receipts SET state = %s, batch_id = %s, updated_at = %s, value_index = v.value_index, "
    "salt = v.salt, leaf = v.leaf, proof = v.proof FROM unnest(%b::text[], %b::int4[], "
    "%b::bytea[], %b::bytea[], %b::bytea[], array_fill(%s::text, ARRAY[%s::int4])) "
    "AS v(id, value_index, salt, leaf, proof, state) "
    "WHERE receipts.id = v.id AND receipts.state = v.state"
)
"""PostgreSQL's update of a batch's receipts: ONE statement over five arrays sent in binary
(``%b``: psycopg's C dumpers, no hex text of each salt, leaf and proof).

The state each receipt must still be in comes as a sixth column of the arrays (``array_fill``:
the same value ``n`` times, made by the server), not as ``receipts.state = 'pending'``. Written
as a restriction of ``receipts``, the planner took it for the pending set and sized that from the
table's statistics; between two ANALYZEs (autovacuum's come a minute apart at best, and a burst
of intake is exactly when a batch is closed) those said a few dozen pending receipts where there
were 30,000 (a new store's statistics, or those of one whose receipts were nearly all
anchored), and it chose to read them all once and compare every one with every array row: 50
million comparisons, 5.4 s of server CPU for a batch of 10,000 instead of 0.15 s (EXPLAIN
ANALYZE on a scratch schema, bench/README.md, session 13). As a join clause it restricts
nothing before the join: each array row finds its receipt through the primary key, whatever the
statistics say."""

_BY_PRIMARY_KEY = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"
"""Before the first `_FILL_ARRAYS` of a batcher's transaction (`close_due_batches`), once for
all its batches: the join of the arrays with ``receipts`` goes through the primary key, one
index lookup a receipt. Left to itself
the planner hashes every pending receipt for a large batch: with 400,000 pending, 145-409
instead of 128-185 ms for a batch of 10,000, and the cost grows with the backlog
(`bench/bench_pg_bulk.py`)."""

FILL_ROWS = 4000
"""Receipts per UPDATE statement on SQLite: 5 parameters each, 20,000 in all, under SQLite's
limit of 32,766 (since 3.32)."""


_FILL_ROWS = (
    "UPDATE receipts SET state = ?, batch_id = ?, updated_at = ?, value_index = v.column2, "
    "salt = v.column3, leaf = v.column4, proof = v.column5 FROM (VALUES {values}) AS v "
    "WHERE receipts.id = v.column1 AND receipts.state = ?"
)


def _fill_rows_sql(rows: int) -> str:
    """One SQLite UPDATE of ``rows`` receipts: (state, batch id, time), then ``rows`` value
    rows (id, value index, salt, leaf, proof), then the state they must still be in. Only
    placeholders are joined in; every value is bound."""
    return _FILL_ROWS.format(values=", ".join(["(?, ?, ?, ?, ?)"] * rows))


def fill_receipts(
    conn: Connection, batch_id: int, rows: Sequence[ReceiptRow], now: datetime
) -> None:
    """Set the receipts of ``rows`` batched in ``batch_id``, with their salt, leaf and proof.

    Values are plain ints and bytes, and the timestamp goes through the column type's bind
    processing once, not once per row. On PostgreSQL one ``UPDATE ... FROM unnest(...)`` of
    binary arrays (1.5-3.0 instead of 8-15 µs of CPU a row for a pipelined ``executemany``,
    `bench/bench_pg_bulk.py`), joined through the primary key when the caller's transaction set
    `_BY_PRIMARY_KEY` (`close_due_batches` does). On SQLite one
    ``UPDATE ... FROM (VALUES ...)`` per `FILL_ROWS` receipts: sqlite3's ``executemany`` gives
    up the GIL and takes it back for every row, and with the API's threads busy in the same
    process each take waited, which made the write lock's hold ten times longer
    (bench/README.md). A receipt that is no longer pending (erased or batched meanwhile) makes
    the count of changed rows differ: then ReceiptsChangedError, and the caller's transaction
    is rolled back.
    """
    stamp = bound_timestamp(conn, m.RECEIPTS.c.updated_at, now)
    batched, pending = ReceiptState.BATCHED.value, ReceiptState.PENDING.value
    if conn.dialect.name == "sqlite":
        changed = 0
        for at in range(0, len(rows), FILL_ROWS):
            chunk = rows[at : at + FILL_ROWS]
            bound = (batched, batch_id, stamp, *chain.from_iterable(chunk), pending)
            changed += conn.exec_driver_sql(_fill_rows_sql(len(chunk)), bound).rowcount
    elif rows:
        ids, indexes, salts, leaves, proofs = (list(column) for column in zip(*rows, strict=True))
        bound = (batched, batch_id, stamp, ids, indexes, salts, leaves, proofs, pending, len(ids))
        changed = conn.exec_driver_sql(_FILL_ARRAYS, bound).rowcount
    else:
        changed = 0
    if changed != len(rows):
        raise ReceiptsChangedError(f"batch {batch_id}: {len(rows) - changed} receipts changed")
