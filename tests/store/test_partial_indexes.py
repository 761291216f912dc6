"""The partial indexes of ``receipts`` (migration 0007): the reads that need them use them, the
answers they give stay right in every state, and an older store migrates with its rows."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import Connection, text

from anchor.service.batcher import close_batches, seal_due_batches
from anchor.service.intake import submit
from anchor.store import Store, open_store
from anchor.store import batches as b
from anchor.store import receipts as r
from anchor.store.engine import alembic_config, create_store_engine
from anchor.types import ReceiptState
from tests.store.test_migrations import HEAD
from tests.support.store import TEST_PEPPER, digest_hex, make_issuer

HOUR = 3600.0
TX = b"\x07" * 32


def _plan(conn: Connection, sql: str, params: tuple[object, ...]) -> str:
    """The plan of ``sql`` (``?`` placeholders) as one string. On PostgreSQL with sequential
    scans priced out: on a tiny table the planner would rightly prefer one, and what is tested
    is whether the index CAN serve the statement (a bound state could not match its predicate)."""
    driver = conn.connection.driver_connection
    assert driver is not None
    if conn.dialect.name == "sqlite":
        rows = driver.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        return "\n".join(str(row[3]) for row in rows)
    with driver.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql.replace("?", "%s"), params)
        return "\n".join(str(row[0]) for row in cursor.fetchall())


def test_the_batcher_backlog_and_gauge_reads_go_through_the_partial_indexes(store: Store) -> None:
    statements = {
        "pending of a body": (b._PENDING.qmark, (1, 100), "ix_receipts_pending"),
        "backlogs": (b._BACKLOGS.qmark, (101, "frozen"), "ix_receipts_pending"),
        "oldest unanchored": (r._OLDEST_UNANCHORED.qmark, r._UNANCHORED_PARAMS, "ix_receipts_"),
        "a batch's receipts": (
            "UPDATE receipts SET state = ? WHERE batch_id IN (1, 2) AND state != ?",
            ("anchored", "erased"),
            "ix_receipts_batched",
        ),
    }
    with store.engine.begin() as conn:
        for name, (sql, params, index) in statements.items():
            plan = _plan(conn, sql, params)
            assert index in plan, (name, plan)
            assert "SCAN receipts\n" not in plan + "\n" and "Seq Scan on receipts" not in plan
        # The oldest unanchored receipt: pending ones per body, batched ones per batch.
        plan = _plan(conn, r._OLDEST_UNANCHORED.qmark, r._UNANCHORED_PARAMS)
        assert "ix_receipts_pending" in plan and "ix_receipts_batched" in plan, plan


def test_backlogs_count_up_to_the_cap_and_the_batcher_still_closes_every_full_batch(
    store: Store, integrator_id: int
) -> None:
    for start in range(0, 50, 10):
        submit(store, [digest_hex(i) for i in range(start, start + 10)], integrator_id)
    [whole] = store.backlogs()
    [capped] = store.backlogs(cap=7)
    assert (whole.pending, capped.pending) == (50, 7)
    assert capped.oldest == whole.oldest and capped.issuer_id == whole.issuer_id
    # The batcher counts up to one more than a batch, yet closes all five full batches of 10.
    closed = seal_due_batches(store, 10, HOUR)
    assert [c.leaf_count for c in closed] == [10] * 5
    assert store.backlogs() == [] and store.pending_count() == 0


def test_the_oldest_unanchored_receipt_is_found_in_every_state_but_anchored(
    store: Store, integrator_id: int
) -> None:
    [first] = submit(store, [digest_hex(1)], integrator_id)
    submit(store, [digest_hex(2)], integrator_id)
    created = store.get_receipt(first.id).created_at  # type: ignore[union-attr]
    later = created + timedelta(seconds=90)
    assert store.oldest_unanchored_age(later) == 90.0  # pending
    [batch_id] = close_batches(store, 10, 0)
    assert store.oldest_unanchored_age(later) == 90.0  # batched
    store.mark_batches_submitted([batch_id], TX)
    assert store.oldest_unanchored_age(later) == 90.0  # submitted
    # A younger pending receipt of a body without chain id and one without any body count too.
    late_body = make_issuer(store, "Late", body_id=None)
    submit(store, [digest_hex(3)], store.create_integrator("Late", late_body).id)
    store.mark_batches_anchored([batch_id], TX, 12, b"\x08" * 32)
    age = store.oldest_unanchored_age(later)
    assert age is not None and age < 90.0  # the anchored ones no longer count
    assert store.pending_count() == 1


def test_a_receipt_without_a_body_counts_as_pending_and_is_attached_through_its_index(
    store: Store,
) -> None:
    integrator = store.create_integrator("Old", None).id
    with store.engine.begin() as conn:  # taken before bodies existed: no issuer_id
        conn.execute(
            text(
                "INSERT INTO receipts (id, integrator_id, digest, state, created_at, updated_at) "
                "VALUES ('old1', :i, :d, 'pending', :t, :t)"
            ),
            {"i": integrator, "d": bytes(32), "t": "2026-01-01 00:00:00.000000"}
            if store.dialect == "sqlite"
            else {"i": integrator, "d": bytes(32), "t": "2026-01-01T00:00:00+00:00"},
        )
    assert store.pending_count() == 1 and store.backlogs() == []
    age = store.oldest_unanchored_age()
    assert age is not None and age > 3600  # the body-less receipt is the oldest
    body = make_issuer(store, "Body", body_id=5)
    store.bind_integrator(integrator, body)
    assert [x.issuer_id for x in store.backlogs()] == [body]
    assert store.pending_count_of(body) == 1


def test_a_store_at_0006_migrates_with_its_receipts_and_batches_them(url: str) -> None:
    engine = create_store_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0006")
    finally:
        engine.dispose()
    store = open_store(url, key_pepper=TEST_PEPPER)
    try:
        integrator = store.create_integrator("Before", make_issuer(store, "Before", body_id=1))
        with store.engine.begin() as conn:
            names = _receipt_indexes(conn)
        assert "ix_receipts_state_created_at" in names and "ix_receipts_pending" not in names
        before = submit(store, [digest_hex(i) for i in range(4)], integrator.id)
        store.migrate()
        with store.engine.begin() as conn:
            names = _receipt_indexes(conn)
        assert {"ix_receipts_pending", "ix_receipts_batched", "ix_receipts_unbodied"} <= names
        assert not names & {"ix_receipts_state_created_at", "ix_receipts_batch_id"}
        assert store.pending_count() == 4
        [batch_id] = close_batches(store, 4, HOUR)
        kept = store.batch_receipts(batch_id)
        assert {x.id for x in kept} == {x.id for x in before}
        assert {x.state for x in kept} == {ReceiptState.BATCHED}
        with store.engine.begin() as connection:  # and back: the full indexes again
            command.downgrade(alembic_config(connection), "0006")
            assert "ix_receipts_batch_id" in _receipt_indexes(connection)
            assert "ix_receipts_pending" not in _receipt_indexes(connection)
        store.migrate()
        assert store.schema_revision() == HEAD and len(store.batch_receipts(batch_id)) == 4
    finally:
        store.close()


def _receipt_indexes(conn: Connection) -> set[str]:
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'receipts'"
    else:
        sql = (
            "SELECT indexname FROM pg_indexes "
            "WHERE tablename = 'receipts' AND schemaname = current_schema()"
        )
    return {str(row[0]) for row in conn.exec_driver_sql(sql)}
