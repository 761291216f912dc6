"""The engine, sessions and error boundary shared by every part of `Store`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from anchor.errors import AnchorError, StoreError
from anchor.store.engine import current_revision, upgrade_to_head
from anchor.store.pepper import KeyHasher


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
        self._read = sessionmaker(
            engine.execution_options(anchor_read=True), expire_on_commit=False
        )

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


def _short(error: SQLAlchemyError) -> str:
    """The first line of the driver's message, without SQLAlchemy's SQL echo."""
    original = getattr(error, "orig", None)
    text = str(original if original is not None else error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__
