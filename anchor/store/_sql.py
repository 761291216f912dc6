"""The tricks of the store's bulk paths, written once: placeholders, bound timestamps, COPY.

The intake and the batcher send their statements straight to the driver, which wants its own
placeholder style (``?`` for sqlite3, ``%s`` for psycopg); the statements are constants with
``?`` marks and every value is bound. A timestamp goes through the column type's bind
processing once per statement instead of once per row. On PostgreSQL many rows go in by one
binary ``COPY`` (`RowsInsert`), and a driver error met outside SQLAlchemy is re-raised as
SQLAlchemy's (`driver_errors`), so that the store's error boundary sees it as any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection
from sqlalchemy.exc import DBAPIError


@dataclass(frozen=True)
class DriverSql:
    """One constant statement, in both placeholder styles."""

    qmark: str

    def for_dialect(self, conn: Connection) -> str:
        """The statement in the placeholder style of ``conn``'s driver."""
        return self.qmark if conn.dialect.paramstyle == "qmark" else self.qmark.replace("?", "%s")


def driver_sql(*parts: str) -> DriverSql:
    """Wrap a constant statement written with ``?`` placeholders, given whole or in parts (a
    shared clause and the rest: the parts are joined as they are)."""
    return DriverSql("".join(parts))


SQLITE_MAX_VARIABLES = 32_766
"""Bound values one SQLite statement may take (the default since SQLite 3.32)."""


@dataclass(frozen=True)
class RowsInsert:
    """A constant insert into ``table`` of ``columns``, sent the way each driver writes many
    rows fastest: psycopg one binary ``COPY`` (each value sent as the column's
    ``pg_types`` entry, in psycopg's C dumpers: 0.5-1.1 instead of 8.6-14 µs of CPU a row for
    a pipelined ``executemany`` of 5,000-10,000 rows, 2-2.8 instead of 11-13.5 of 100 rows,
    `bench/bench_pg_bulk.py`); sqlite3 one statement of many ``VALUES`` rows
    per `SQLITE_MAX_VARIABLES` values, because its ``executemany`` gives up and retakes the
    GIL for every row (a busy thread beside it made that ten times slower: bench/README.md,
    batching).

    ``COPY`` checks the table's constraints as ``INSERT`` does and runs in the connection's
    transaction; a row it refuses fails the whole statement."""

    table: str
    columns: tuple[str, ...]
    pg_types: tuple[str, ...]
    """PostgreSQL's binary type of each column (``text`` for a ``varchar``: same format)."""

    def __post_init__(self) -> None:
        """Refuse a type list that does not match the columns."""
        if len(self.columns) != len(self.pg_types):
            columns, types = len(self.columns), len(self.pg_types)
            raise ValueError(f"{self.table}: {columns} columns but {types} types")

    @property
    def width(self) -> int:
        """Values a row."""
        return len(self.columns)

    @property
    def head(self) -> str:
        """``INSERT INTO table (columns)``: the class's constant names, every value bound."""
        return f"INSERT INTO {self.table} ({', '.join(self.columns)})"

    def execute(self, conn: Connection, rows: Sequence[Sequence[object]]) -> None:
        """Insert ``rows`` on ``conn``, in its transaction."""
        one = "(" + ", ".join("?" * self.width) + ")"
        if conn.dialect.paramstyle != "qmark":
            if len(rows) == 1:  # one row: a plain execute is one round trip, as COPY is
                conn.exec_driver_sql(f"{self.head} VALUES {one}".replace("?", "%s"), tuple(rows[0]))
                return
            names = ", ".join(self.columns)
            self._copy(conn, f"COPY {self.table} ({names}) FROM STDIN (FORMAT BINARY)", rows)
            return
        step = SQLITE_MAX_VARIABLES // self.width
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            values = [value for row in chunk for value in row]
            conn.exec_driver_sql(
                f"{self.head} VALUES " + ", ".join([one] * len(chunk)), tuple(values)
            )

    def _copy(self, conn: Connection, sql: str, rows: Sequence[Sequence[object]]) -> None:
        driver: Any = conn.connection.driver_connection  # psycopg's, in the transaction of conn
        with driver_errors(conn, sql), driver.cursor() as cursor, cursor.copy(sql) as copy:
            copy.set_types(list(self.pg_types))
            for row in rows:
                copy.write_row(row)


def driver_rows(conn: Connection, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
    """All rows of one driver statement (``sql`` in the driver's placeholder style) as plain
    tuples, in ``conn``'s transaction: no SQLAlchemy result or row objects, and on PostgreSQL
    in binary (a ``bytea`` comes as bytes, not hex text). For the batcher's read of thousands
    of pending receipts (its CPU a digest 13.6 -> 11.9 µs on PostgreSQL, 25.1 -> 23.0 on
    SQLite: `bench/bench_batching.py`, bench/README.md)."""
    driver: Any = conn.connection.driver_connection
    with driver_errors(conn, sql):
        if conn.dialect.paramstyle == "qmark":
            rows: list[tuple[Any, ...]] = driver.execute(sql, tuple(params)).fetchall()
            return rows
        with driver.cursor(binary=True) as cursor:
            found: list[tuple[Any, ...]] = cursor.execute(sql, tuple(params)).fetchall()
            return found


@contextmanager
def driver_errors(conn: Connection, sql: str) -> Iterator[None]:
    """Within this block, a driver error (raised by a driver call SQLAlchemy did not make) is
    re-raised as SQLAlchemy's `DBAPIError` subclass for it (`IntegrityError`, ...), and a lost
    connection is invalidated, as SQLAlchemy does for its own calls."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as e:
        if conn.dialect.is_disconnect(e, conn.connection.dbapi_connection, None):
            conn.invalidate(e)
        raise DBAPIError.instance(sql, None, e, dbapi.Error) from e


def bound_timestamp(conn: Connection, column: Column[Any], moment: datetime) -> Any:
    """``moment`` as ``column``'s type sends it to ``conn``'s driver."""
    dialect = conn.dialect
    to_db = column.type.dialect_impl(dialect).bind_processor(dialect)
    return to_db(moment) if to_db is not None else moment


def timestamp_reader(conn: Connection, column: Column[Any]) -> Callable[[Any], Any]:
    """How a value of ``column`` as ``conn``'s driver gives it (a driver statement's result)
    becomes what the column type gives: a datetime for a timestamp column."""
    dialect = conn.dialect
    to_python = column.type.dialect_impl(dialect).result_processor(dialect, None)
    return to_python if to_python is not None else _same


def _same(value: Any) -> Any:
    return value
