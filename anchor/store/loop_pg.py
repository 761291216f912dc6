"""PostgreSQL reads an event loop makes itself: a small pool of psycopg async connections.

A PostgreSQL read handed to the thread pool cost a proof GET its hand-off to a thread and back,
and SQLAlchemy's pooled connection three round trips (BEGIN, the select, the ROLLBACK of the
pool's reset). `LoopReads` runs ONE prebuilt statement (`LoopStatement`: the SQL SQLAlchemy
compiles for the store's dialect and the result processors of its columns, so its rows are
SQLAlchemy's values) on an autocommit connection: one round trip, awaited on the loop.

The connections are opened lazily, at most `LOOP_POOL_SIZE` per event loop, by the loop that
uses them. A slow or dead server never holds the loop's other requests: a read waits at most
`LOOP_READ_TIMEOUT_S` for a connection, its connect and its answer together (the server also
ends it after `LOOP_STATEMENT_TIMEOUT_MS`), then raises StoreError (503). A connection whose
read failed, timed out or was cancelled (the client went away) is closed, never reused: it may
still carry the unfinished statement.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import Dialect, Engine, Select

from anchor.errors import StoreError

LOOP_POOL_SIZE = 4
"""Connections per event loop: a primary-key read takes a fraction of a millisecond of the
server's time, so four keep up with one API process (which serves on one GIL)."""
LOOP_READ_TIMEOUT_S = 2.0
"""The longest a loop read may take (waiting for a connection, connecting, the answer)."""
LOOP_STATEMENT_TIMEOUT_MS = 2_000
LOOP_CONNECT_TIMEOUT_S = 2
LOOP_APPLICATION_NAME = "anchor-loop-reads"
"""``application_name`` of the loop's connections, as ``pg_stat_activity`` shows them."""

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class LoopStatement:
    """A Core select compiled once for a dialect: its SQL, its result keys and processors."""

    sql: str
    keys: tuple[str, ...]
    processors: tuple[_Processor, ...]

    @classmethod
    def of(
        cls, statement: Select[Any], engine: Engine, dialect: Dialect | None = None
    ) -> LoopStatement:
        """``statement`` as ``engine`` runs it: the same SQL text and the same result values
        (each column's type processing, e.g. aware UTC times) as a Core execute. ``dialect``:
        another instance of the engine's dialect to compile with (another parameter style)."""
        dialect = dialect or engine.dialect
        compiled = statement.compile(dialect=dialect)
        columns = list(statement.selected_columns)
        keys = tuple(c.key for c in columns)
        if any(k is None for k in keys):
            raise ValueError("every selected column of a loop statement needs a key")
        return cls(
            sql=str(compiled),
            keys=tuple(str(k) for k in keys),
            processors=tuple(
                c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
            ),
        )

    def values(self, row: Sequence[Any]) -> dict[str, Any]:
        """A row of the driver as the statement's processed values, by result key."""
        return {
            key: value if process is None or value is None else process(value)
            for key, process, value in zip(self.keys, self.processors, row, strict=True)
        }


@dataclass
class _LoopPool:
    """The idle connections and the slots of one event loop."""

    slots: asyncio.Semaphore
    idle: list[psycopg.AsyncConnection[Any]] = field(default_factory=list)


class LoopReads:
    """One-statement reads on psycopg async connections, pooled per event loop."""

    def __init__(
        self,
        conninfo: str,
        *,
        size: int = LOOP_POOL_SIZE,
        timeout: float = LOOP_READ_TIMEOUT_S,
        statement_timeout_ms: int = LOOP_STATEMENT_TIMEOUT_MS,
    ) -> None:
        """Read from the server of ``conninfo`` (a libpq URI); nothing is connected yet."""
        self._conninfo = conninfo
        self._size = size
        self.timeout = timeout
        self._statement_timeout_ms = statement_timeout_ms
        # by loop, held until the loop is closed (swept when another loop reads) or `close`
        self._pools: dict[asyncio.AbstractEventLoop, _LoopPool] = {}
        self._closed = False

    @classmethod
    def for_engine(
        cls,
        engine: Engine,
        *,
        timeout: float = LOOP_READ_TIMEOUT_S,
        statement_timeout_ms: int = LOOP_STATEMENT_TIMEOUT_MS,
    ) -> LoopReads | None:
        """Loop reads on ``engine``'s PostgreSQL database (same URL, hence same server,
        credentials and ``search_path``); None for SQLite."""
        if engine.dialect.name != "postgresql":
            return None
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return cls(url, timeout=timeout, statement_timeout_ms=statement_timeout_ms)

    async def fetch_one(
        self, statement: LoopStatement, params: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """The first row of ``statement`` with ``params`` as processed values; None if none.

        Raise StoreError when the server cannot answer within `timeout` or fails.
        """
        if self._closed:
            raise StoreError("the store is closed")
        pool = self._pool()
        try:
            async with asyncio.timeout(self.timeout):
                async with pool.slots:
                    row = await self._fetch(pool, statement.sql, params)
        except TimeoutError as e:
            raise StoreError(f"database read timed out after {self.timeout:g} s") from e
        except psycopg.Error as e:
            raise StoreError(f"database error: {_short(e)}") from e
        return None if row is None else statement.values(row)

    def close(self) -> None:
        """Close every idle connection; those in use are closed when their read ends."""
        self._closed = True
        for pool in list(self._pools.values()):
            _finish(pool.idle)
        self._pools.clear()

    def _pool(self) -> _LoopPool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            for old, gone in list(self._pools.items()):  # e.g. a test client's loop per call
                if old.is_closed():
                    del self._pools[old]
                    _finish(gone.idle)
            pool = self._pools[loop] = _LoopPool(asyncio.Semaphore(self._size))
        return pool

    async def _fetch(
        self, pool: _LoopPool, sql: str, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        conn = pool.idle.pop() if pool.idle else await self._connect()
        reusable = False
        try:
            cursor = await conn.execute(sql, params)
            row = await cursor.fetchone()
            reusable = conn.info.transaction_status == pq.TransactionStatus.IDLE
            return row
        finally:
            if reusable and not self._closed:
                pool.idle.append(conn)
            else:  # failed, timed out or cancelled mid-read: the statement may be unfinished
                conn.pgconn.finish()

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(
            self._conninfo,
            autocommit=True,
            connect_timeout=LOOP_CONNECT_TIMEOUT_S,
            application_name=LOOP_APPLICATION_NAME,
        )
        try:
            await conn.execute(f"SET statement_timeout = {int(self._statement_timeout_ms)}")
        except BaseException:
            conn.pgconn.finish()
            raise
        return conn


def _finish(idle: list[psycopg.AsyncConnection[Any]]) -> None:
    """Close the idle connections (a socket close: no await, from any thread)."""
    while idle:
        conn = idle.pop()  # held: ``idle.pop().pgconn`` would drop it before its finish()
        conn.pgconn.finish()


def _short(error: psycopg.Error) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
