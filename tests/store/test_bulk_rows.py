"""The store's bulk writes through the driver: PostgreSQL's binary COPY of the intake's rows and
its one-statement update of a batch's receipts, SQLite's multi-row statements; each case on
both backends unless it names one.

What they must keep: every value as an ORM insert would store it, a refused row refusing the
whole statement (nothing of it stays), a driver error raised as SQLAlchemy's (so the store's
boundary makes it a StoreError), and a lost connection not given out again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from anchor.service.intake import submit
from anchor.store import Store, StoreError, batches, open_store
from anchor.store import models as m
from anchor.store._sql import bound_timestamp
from anchor.store.batches import ReceiptsChangedError, SealedLeaf, fill_receipts, receipt_rows
from anchor.store.intake import _INSERT
from anchor.types import ReceiptState
from tests.support.store import TEST_PEPPER, digest_hex, make_issuer


def _rows(
    store: Store, integrator_id: int, ids: list[str], key: str | None = None
) -> list[tuple[object, ...]]:
    integrator = store.get_integrator(integrator_id)
    assert integrator is not None
    issuer_id = integrator.issuer_id
    now = datetime(2026, 12, 2, 6, 0, 0, 123456, tzinfo=UTC)
    with store.engine.connect() as conn:
        stamp = bound_timestamp(conn, m.RECEIPTS.c.created_at, now)
    return [
        (rid, integrator_id, issuer_id, bytes.fromhex(digest_hex(i)), key, "pending", stamp, stamp)
        for i, rid in enumerate(ids)
    ]


def _count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM receipts")).scalar_one())


def test_many_rows_are_stored_as_given(store: Store, integrator_id: int) -> None:
    ids = [f"bulk-{i:04d}" for i in range(300)]
    with store._connection() as conn:
        _INSERT.execute(conn, _rows(store, integrator_id, ids, key="k" * 64))
    got = store.get_receipt("bulk-0299")
    assert got is not None
    assert got.digest is not None and got.digest.hex == digest_hex(299)
    assert got.state is ReceiptState.PENDING and got.idempotency_key == "k" * 64
    assert got.created_at == datetime(2026, 12, 2, 6, 0, 0, 123456, tzinfo=UTC)
    assert got.created_at.utcoffset() == timedelta(0)
    assert got.batch_id is None and got.salt is None and got.proof == ()
    assert _count(store) == 300


def test_one_refused_row_refuses_them_all(store: Store, integrator_id: int) -> None:
    """A receipt id already taken (the attacker cannot choose ids; a collision is the case):
    the statement fails as an IntegrityError, and none of its 200 rows stays."""
    [taken] = submit(store, [digest_hex(1)], integrator_id)
    ids = [f"bulk-{i:04d}" for i in range(199)] + [taken.id]
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        _INSERT.execute(conn, _rows(store, integrator_id, ids))
    with pytest.raises(StoreError, match="database error"), store._connection() as conn:
        _INSERT.execute(conn, _rows(store, integrator_id, ids))
    assert _count(store) == 1


@pytest.mark.postgres
def test_a_connection_lost_during_copy_is_not_given_out_again(pg_url: str) -> None:
    store = open_store(pg_url, migrate=True, key_pepper=TEST_PEPPER)
    try:
        integrator_id = store.create_integrator("Commune de Test", make_issuer(store)).id
        rows = _rows(store, integrator_id, [f"lost-{i:04d}" for i in range(50)])
        with pytest.raises(StoreError, match="database error"), store._connection() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            with store.engine.connect() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            try:
                _INSERT.execute(conn, rows)
            finally:
                assert conn.invalidated
        submit(store, [digest_hex(2)], integrator_id)  # the pool hands out a live connection
        assert _count(store) == 1
    finally:
        store.close()


def _batch(conn: Connection, issuer_id: int | None) -> int:
    """A frozen batch row for ``fill_receipts`` to point at."""
    now = bound_timestamp(conn, m.RECEIPTS.c.created_at, m.utcnow())  # the same column type
    query = text(
        "INSERT INTO batches (root, leaf_count, state, created_at, frozen_at, issuer_id) "
        "VALUES (:root, 1, 'frozen', :now, :now, :issuer) RETURNING id"
    )
    found = conn.execute(query, {"root": b"r" * 32, "now": now, "issuer": issuer_id})
    return int(found.scalar_one())


def test_a_batch_update_counts_the_receipts_it_really_changed(
    store: Store, integrator_id: int
) -> None:
    """Three of fifty receipts erased between the read and the write: the update of all fifty
    says so (ReceiptsChangedError), and its transaction leaves nothing batched."""
    receipts = submit(store, [digest_hex(i) for i in range(50)], integrator_id)
    for r in receipts[10:13]:
        store.erase(r.id)
    leaves = [SealedLeaf(i, bytes([i]) * 32, bytes([i + 1]) * 32, bytes(64)) for i in range(50)]
    rows = receipt_rows(leaves, [r.id for r in receipts])
    with (
        pytest.raises(ReceiptsChangedError, match="3 receipts changed"),
        store._connection() as conn,
    ):
        fill_receipts(conn, _batch(conn, receipts[0].issuer_id), rows, m.utcnow())
    with store.engine.connect() as conn:
        found = conn.execute(text("SELECT state, count(*) FROM receipts GROUP BY state"))
        states: dict[str, int] = {state: count for state, count in found}
    assert states == {"pending": 47, "erased": 3}


def test_a_batch_update_writes_each_receipts_own_values(store: Store, integrator_id: int) -> None:
    receipts = submit(store, [digest_hex(i) for i in range(40)], integrator_id)
    leaves = [
        SealedLeaf(i, bytes([i]) * 32, bytes([i + 1]) * 32, bytes([i]) * 96) for i in range(40)
    ]
    rows = receipt_rows(reversed(leaves), [r.id for r in receipts])
    with store.engine.begin() as conn:
        batch_id = _batch(conn, receipts[0].issuer_id)
        fill_receipts(conn, batch_id, rows, m.utcnow())
    for i in (0, 17, 39):
        got = store.get_receipt(receipts[i].id)
        assert got is not None and got.state is ReceiptState.BATCHED
        assert (got.batch_id, got.value_index) == (batch_id, i)
        assert (got.salt, got.leaf) == (bytes([i]) * 32, bytes([i + 1]) * 32)
        assert len(got.proof) == 3 and set(got.proof) == {bytes([i]) * 32}


def test_an_empty_batch_update_changes_nothing(store: Store) -> None:
    make_issuer(store)
    with store._connection() as conn:
        fill_receipts(conn, 1, [], m.utcnow())
    assert _count(store) == 0


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statistics", ["fresh", "taken when empty", "never taken", "taken when few were pending"]
)
def test_a_large_batch_update_looks_receipts_up_by_primary_key(
    pg_url: str, statistics: str
) -> None:
    """With many receipts pending, PostgreSQL's planner would hash all of them to update one
    batch (a cost that grows with the backlog); the batcher's update joins through the
    primary key instead: one index lookup a receipt, whatever waits beside it.

    Also when the statistics say that few receipts are pending, as they do after any burst of
    intake until the next ANALYZE: taken while the table was empty, never taken, or taken in a
    store of 100,000 anchored receipts, they made the planner read the pending receipts once
    and compare each with every array row (a join filter over a materialized scan: 50 million
    comparisons, 5.4 s, for a batch of 10,000 among 30,000). The earlier statement, with the
    state as a condition on ``receipts``, fails these three.
    """
    store = open_store(pg_url, migrate=True, key_pepper=TEST_PEPPER)
    try:
        integrator_id = store.create_integrator("Commune de Test", make_issuer(store)).id
        ids = [f"p-{i:06d}" for i in range(60_000)]

        def analyze() -> None:
            with store.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE receipts")
                conn.commit()

        if statistics == "taken when empty":
            analyze()
        if statistics == "taken when few were pending":  # a store that has anchored a lot
            done = [f"a-{i:06d}" for i in range(100_000)]
            anchored = [
                (*row[:5], "anchored", *row[6:]) for row in _rows(store, integrator_id, done)
            ]
            with store._connection() as conn:
                _INSERT.execute(conn, anchored)
            analyze()
        with store._connection() as conn:
            _INSERT.execute(conn, _rows(store, integrator_id, ids))
        if statistics == "fresh":
            analyze()
        batch = ids[:10_000]
        blank = [b"x" * 32] * len(batch)
        bound = ("batched", 1, m.utcnow(), batch, list(range(len(batch))), blank, blank, blank)
        with store._connection() as conn:
            conn.exec_driver_sql(batches._BY_PRIMARY_KEY)
            explain = "EXPLAIN " + batches._FILL_ARRAYS
            found = conn.exec_driver_sql(explain, (*bound, "pending", len(batch)))
            plan = "\n".join(row[0] for row in found)
            conn.rollback()
        assert "Nested Loop" in plan and "Index Scan using pk_receipts" in plan, plan
        assert "Hash" not in plan and "Materialize" not in plan, plan
        assert "Join Filter" not in plan, plan
    finally:
        store.close()
