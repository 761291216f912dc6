"""The schema comes from the Alembic migrations, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from anchor.store import open_store
from anchor.store.engine import create_store_engine

TABLES = {
    "integrators",
    "api_keys",
    "receipts",
    "idempotency_records",
    "batches",
    "outbox",
    "watch_cursors",
    "issuers",
    "issuer_keys",
    "outbox_batches",
    "document_facts",
    "status_changes",
}
HEAD = "0007"


def test_upgrade_from_empty_creates_every_table(url: str) -> None:
    store = open_store(url)
    try:
        assert store.schema_revision() is None
        assert not TABLES & set(inspect(store.engine).get_table_names())
        store.migrate()
        assert store.schema_revision() == HEAD
        assert TABLES | {"alembic_version"} <= set(inspect(store.engine).get_table_names())
        store.migrate()  # idempotent
        assert store.schema_revision() == HEAD
    finally:
        store.close()


def test_schema_matches_the_models(url: str) -> None:
    """The migration creates the columns the ORM models declare."""
    from anchor.store.models import Base

    open_store(url, migrate=True).close()
    engine = create_store_engine(url)
    try:
        inspector = inspect(engine)
        for table in Base.metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == set(table.columns.keys()), table.name
        indexes = {ix["name"] for ix in inspector.get_indexes("outbox")}
        assert "uq_outbox_live_nonce" in indexes
    finally:
        engine.dispose()


def test_autogenerate_finds_no_difference(url: str) -> None:
    """Alembic autogenerate sees nothing to change: models and migrations agree exactly."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from anchor.store.models import Base

    store = open_store(url, migrate=True)
    try:
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        store.close()


@pytest.mark.postgres
def test_lost_postgres_connection_fails_one_call_then_recovers(
    request: pytest.FixtureRequest,
) -> None:
    """Without pre-ping, a killed server connection costs one StoreError, then the pool renews."""
    import psycopg

    from anchor.store import StoreError
    from tests.support.pg import PG_DSN

    store = open_store(request.getfixturevalue("pg_module_url"))
    try:
        with store.engine.connect() as conn:  # the pool's only connection, so far
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(StoreError, match="database error"):
            store.pending_count()
        assert store.pending_count() == 0
    finally:
        store.close()
