"""The engine, sessions and error boundary shared by every part of `Store`."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from anchor.errors import AnchorError, StoreError
from anchor.store.engine import create_loop_engine, current_revision, upgrade_to_head
from anchor.store.loop_pg import LoopReads, LoopStatement
from anchor.store.pepper import KeyHasher

_ON_LOOP: ContextVar[bool] = ContextVar("anchor_store_on_loop", default=False)

NOT_ON_LOOP = object()
"""What `StoreBase._fetch_on_loop` answers outside `StoreBase.on_loop` or on PostgreSQL."""


class StoreBase:
    """Owns the engine; opens transactions that wrap driver errors into StoreError."""

    def __init__(self, engine: Engine, key_hasher: KeyHasher | None = None) -> None:
        """Use ``engine`` (see `anchor.store.engine.create_store_engine`).

        ``key_hasher`` turns Idempotency-Keys into stored tokens (`anchor.store.pepper`); by
        default one that refuses keys.
        """
        self.engine = engine
        self.key_hasher = key_hasher or KeyHasher(None)
        self._write = sessionmaker(engine, expire_on_commit=False)
        self._read_only = engine.execution_options(anchor_read=True)
        self._read = sessionmaker(self._read_only, expire_on_commit=False)
        self._loop_engine = create_loop_engine(engine)
        self._loop_pg = LoopReads.for_engine(engine)
        self._loop_statement: LoopStatement | None = None
        self._sqlite_statement: LoopStatement | None = None  # the same, for `_fetch_on_loop`
        self._loop_driver = threading.local()  # each loop thread's SQLite driver connection

    @property
    def dialect(self) -> str:
        """The backend name: ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Upgrade the schema to the newest Alembic revision (idempotent)."""
        upgrade_to_head(self.engine)

    def schema_revision(self) -> str | None:
        """The Alembic revision of the database, or None before `migrate`."""
        return current_revision(self.engine)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self._loop_engine is not None:
            self._loop_engine.dispose()
        if self._loop_pg is not None:
            self._loop_pg.close()

    @property
    def reads_on_loop(self) -> bool:
        """Whether an event loop may make the hot-path reads itself (`on_loop`): a SQLite file."""
        return self._loop_engine is not None

    @property
    def reads_async(self) -> bool:
        """Whether the hot-path reads have an awaitable form for an event loop
        (`DocumentsMixin.receipt_read_async`): PostgreSQL (`anchor.store.loop_pg`)."""
        return self._loop_pg is not None

    @contextmanager
    def on_loop(self) -> Iterator[None]:
        """Within this block (of this thread or asyncio task), the reads of the hot paths
        (`DocumentsMixin.receipt_read`) go through the driver on the event loop's own connection
        (`anchor.store.engine.create_loop_engine`, `_fetch_on_loop`); elsewhere, the shared
        pool."""
        token = _ON_LOOP.set(True)
        try:
            yield
        finally:
            _ON_LOOP.reset(token)

    def _fetch_on_loop(self, statement: LoopStatement, params: dict[str, Any]) -> Any:
        """Within `on_loop` on a SQLite file: the first row of ``statement`` (compiled with
        named parameters) as its processed values, read through the driver on this thread's
        connection of the loop engine (autocommit: one statement, one snapshot); None when no
        row matches. `NOT_ON_LOOP` elsewhere: the caller reads through SQLAlchemy.

        The driver's own execute, without SQLAlchemy's connection, execution context and
        result objects around it (most of a SQLite read's cost on the loop). A driver error
        is StoreError, and the connection is not used again."""
        if self._loop_engine is None or not _ON_LOOP.get():
            return NOT_ON_LOOP
        local = self._loop_driver
        try:
            if getattr(local, "fairy", None) is None:
                local.fairy = self._loop_engine.raw_connection()
            row = local.fairy.driver_connection.execute(statement.sql, params).fetchone()
        except (sqlite3.Error, SQLAlchemyError) as e:
            fairy, local.fairy = getattr(local, "fairy", None), None
            if fairy is not None:
                fairy.invalidate()
            raise StoreError(f"database error: {_short(e)}") from e
        return None if row is None else statement.values(row)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """Yield a session in one write transaction, committed on success, rolled back on error.

        Driver and SQLAlchemy errors leave as StoreError; AnchorError subclasses pass unchanged.
        On SQLite the transaction holds the database write lock from its first statement.
        """
        with self._guard(), self._write.begin() as session:
            yield session

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """Yield a Core connection in one write transaction: the lean path of the intake.

        Same commit, rollback, locking and error rules as `_transaction`, without the ORM
        session (a measurable share of a one-digest request).
        """
        with self._guard(), self.engine.begin() as conn:
            yield conn

    def _read_engine(self) -> Engine:
        """The engine with the read-only option (SQLite: BEGIN, not BEGIN IMMEDIATE), for the
        Core reads of the hot paths (no session) outside `on_loop`."""
        return self._read_only

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """Yield a session in one read-only transaction (never takes SQLite's write lock)."""
        with self._guard(), self._read.begin() as session:
            yield session

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except AnchorError:
            raise
        except SQLAlchemyError as e:
            raise StoreError(f"database error: {_short(e)}") from e


def _short(error: Exception) -> str:
    """The first line of the driver's message, without SQLAlchemy's SQL echo."""
    original = getattr(error, "orig", None)
    text = str(original if original is not None else error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__
