"""The schema comes from the Alembic migrations, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect

from anchor.store import open_store
from anchor.store.engine import create_store_engine
from anchor.store.models import UNCHECKED_ON_POSTGRESQL

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
HEAD = "0008"


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
            found = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        if store.dialect == "postgresql":  # migration 0008: declared, not checked there
            left_out = [
                d for d in found if d[0] == "add_fk" and d[1].name in UNCHECKED_ON_POSTGRESQL
            ]
            assert {d[1].name for d in left_out} == UNCHECKED_ON_POSTGRESQL
            found = [d for d in found if d not in left_out]
        assert found == []
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


def _receipt_references(engine: Engine) -> set[str]:
    return {fk["name"] for fk in inspect(engine).get_foreign_keys("receipts") if fk["name"]}


def test_postgresql_stops_checking_receipts_references_and_sqlite_keeps_them(url: str) -> None:
    """Migration 0008 drops the three references of ``receipts`` on PostgreSQL, keeps every row,
    and its downgrade puts them back; SQLite's stay, and still refuse an unknown integrator."""
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from anchor.service.intake import submit
    from anchor.store.engine import alembic_config
    from tests.support.store import digest_hex, make_issuer

    store = open_store(url, migrate=True)
    try:
        integrator = store.create_integrator("Commune de Test", make_issuer(store))
        taken = submit(store, [digest_hex(i) for i in range(3)], integrator.id)
        if store.dialect == "postgresql":
            assert not _receipt_references(store.engine) & UNCHECKED_ON_POSTGRESQL
            with store.engine.begin() as connection:
                command.downgrade(alembic_config(connection), "0007")
            assert _receipt_references(store.engine) >= UNCHECKED_ON_POSTGRESQL
            store.migrate()
            assert not _receipt_references(store.engine) & UNCHECKED_ON_POSTGRESQL
        else:
            orphan = (
                "INSERT INTO receipts (id, integrator_id, state, created_at, updated_at) "
                "VALUES ('x', 999, 'pending', '2026-12-04', '2026-12-04')"
            )
            with pytest.raises(IntegrityError), store.engine.begin() as conn:
                conn.execute(text(orphan))
        assert store.schema_revision() == HEAD
        assert all(store.get_receipt(r.id) is not None for r in taken)
    finally:
        store.close()


def test_no_code_deletes_a_parent_that_postgresql_no_longer_checks() -> None:
    """What makes migration 0008 safe: nothing in the service deletes an integrator, a body or
    a batch, whose rows receipts name. A delete added one day must revisit 0008 (a receipt
    whose body or batch is gone would have no issuer and no proof to show)."""
    import re
    from pathlib import Path

    root = Path(__file__).parents[2]
    deleting = re.compile(  # a Core delete, raw SQL, or an ORM object's delete (whatever it is)
        r"delete\(\s*(m\.)?(Integrator|Issuer|Batch)\b"
        r"|DELETE\s+FROM\s+(integrators|issuers|batches)\b|session\.delete\(",
        re.IGNORECASE,
    )
    found = [
        f"{path.relative_to(root)}:{n}"
        for folder in ("anchor", "api", "scripts")
        for path in sorted((root / folder).rglob("*.py"))
        if "migrations" not in path.parts
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if deleting.search(line)
    ]
    assert found == []
