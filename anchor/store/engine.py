"""Engines for the two backends, and the programmatic Alembic upgrade.

SQLite (the default) runs in WAL mode with ``synchronous=FULL``, a busy timeout, foreign keys on,
``secure_delete`` on, a 64 MiB page cache and temporary files in memory, set on every new
connection; its file is created with mode 0600. Its write transactions start with
``BEGIN IMMEDIATE`` so that two writers queue on the busy timeout instead of failing when a
reader upgrades to a writer; engines bound with ``anchor_read=True`` start plain deferred (read)
transactions. PostgreSQL is reached by URL, ``postgresql+psycopg://...``, at its default
READ COMMITTED isolation.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import SingletonThreadPool

from anchor.errors import StoreError
from anchor.private_files import create_private

BUSY_TIMEOUT_MS = 30_000
LOOP_BUSY_TIMEOUT_MS = 1_000
"""The busy timeout of the reads an event loop makes itself (`create_loop_engine`)."""
CACHE_KIB = 65_536
PG_POOL_SIZE = 20
PG_MAX_OVERFLOW = 10
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_store_engine(url: str) -> Engine:
    """Return an engine for ``url`` with the durability settings of its backend.

    Raise StoreError on a malformed URL or an unsupported backend.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise StoreError(f"malformed database URL: {e}") from e
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _create_private_database(Path(parsed.database))
        # The same pool as PostgreSQL's: with SQLAlchemy's default of 5 (10 overflow) under the
        # API's 40 threads, overflow connections were closed on return and reopened, each with
        # the six PRAGMAs below (a sixth of a proof GET under 50 clients).
        pool: dict[str, Any] = {}
        if parsed.database and parsed.database != ":memory:":
            pool = {"pool_size": PG_POOL_SIZE, "max_overflow": PG_MAX_OVERFLOW}
        engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **pool)
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        # No pool_pre_ping: it costs a round trip per transaction (about 25% of a one-digest
        # submit). After a server restart the first use of a stale connection fails with
        # StoreError, SQLAlchemy then discards the whole pool, and the client's retry succeeds.
        # pool_size: SQLAlchemy's default of 5 under the API's 40 threads made most requests
        # open and close a fresh connection (overflow ones are closed on return): about a
        # third of a one-digest submit. 20 kept, 10 more at a peak: mind max_connections
        # (100 by default) with several API processes.
        return create_engine(parsed, pool_size=PG_POOL_SIZE, max_overflow=PG_MAX_OVERFLOW)
    raise StoreError(f"unsupported database backend {backend!r}: use sqlite or postgresql")


def create_loop_engine(engine: Engine) -> Engine | None:
    """A second engine on ``engine``'s SQLite file, for the reads an event loop makes itself
    (`anchor.store._base.StoreBase.on_loop`); None for PostgreSQL and in-memory SQLite.

    A local read in WAL mode never waits for a writer, so an API route may make it on its event
    loop instead of handing it to a thread (the hand-off cost a fifth of a proof GET). Its
    connections are kept one per thread (`SingletonThreadPool`): the loop never waits for a
    pooled connection that the threads hold. Its busy timeout is `LOOP_BUSY_TIMEOUT_MS`: in the
    rare case where SQLite makes a reader wait (a WAL recovery after a crash), the request fails
    with StoreError (503) after a second rather than hold the loop for 30. PostgreSQL's reads are
    network round trips and stay in the thread pool; an in-memory database cannot be opened twice.
    """
    url = engine.url
    if engine.dialect.name != "sqlite" or not url.database or url.database == ":memory:":
        return None
    loop = create_engine(
        url,
        poolclass=SingletonThreadPool,
        connect_args={"timeout": LOOP_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )
    _configure_sqlite(loop, LOOP_BUSY_TIMEOUT_MS)
    return loop


def _create_private_database(path: Path) -> None:
    """Make an empty database file of mode 0600 if there is none; SQLite gives its -wal and
    -shm files the mode of the database file."""
    try:
        create_private(path, b"")
    except FileExistsError:
        pass
    except OSError as e:
        raise StoreError(f"cannot create the database file {path}: {e.strerror}") from e


def _configure_sqlite(engine: Engine, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Driver-level autocommit: the "begin" hook below emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Erasure: deleted and overwritten content is zeroed in the file, not just unlinked.
            cursor.execute("PRAGMA secure_delete=ON")
            # 64 MiB page cache (default 2 MiB): freezing a 10,000-receipt batch rewrites
            # about 6 MB of rows, and a spilling cache made that 2.5 times slower.
            cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            # Statement journals in memory, not in temporary files: with foreign keys on, each
            # row of an executemany UPDATE opens one, and in files that was half the cost of
            # freezing a batch (bench/bench_batching.py). No copy of a row lands in /tmp.
            cursor.execute("PRAGMA temp_store=MEMORY")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get("anchor_read", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration built in code (no alembic.ini), optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Run every migration up to ``head`` on ``engine``; raise StoreError on failure."""
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
    except SQLAlchemyError as e:
        raise StoreError(f"database migration failed: {e}") from e


def current_revision(engine: Engine) -> str | None:
    """Return the Alembic revision the database is at, or None if it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as e:
        raise StoreError(f"cannot read the schema revision: {e}") from e
