"""The two tricks of the store's bulk paths, written once: placeholders and bound timestamps.

The intake and the batcher send ``executemany`` straight to the driver, which wants its own
placeholder style (``?`` for sqlite3, ``%s`` for psycopg); the statements are constants with
``?`` marks and every value is bound. A timestamp goes through the column type's bind
processing once per statement instead of once per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection


@dataclass(frozen=True)
class DriverSql:
    """One constant statement, in both placeholder styles."""

    qmark: str

    def for_dialect(self, conn: Connection) -> str:
        """The statement in the placeholder style of ``conn``'s driver."""
        return self.qmark if conn.dialect.paramstyle == "qmark" else self.qmark.replace("?", "%s")


def driver_sql(qmark: str) -> DriverSql:
    """Wrap a constant statement written with ``?`` placeholders."""
    return DriverSql(qmark)


SQLITE_MAX_VARIABLES = 32_766
"""Bound values one SQLite statement may take (the default since SQLite 3.32)."""


@dataclass(frozen=True)
class RowsInsert:
    """A constant ``INSERT INTO table (columns)`` of ``width`` values a row, sent the way each
    driver writes many rows fastest: psycopg one pipelined ``executemany``; sqlite3 one
    statement of many ``VALUES`` rows per `SQLITE_MAX_VARIABLES` values, because its
    ``executemany`` gives up and retakes the GIL for every row (a busy thread beside it made
    that ten times slower: bench/README.md, batching)."""

    head: str
    width: int

    def execute(self, conn: Connection, rows: Sequence[Sequence[object]]) -> None:
        """Insert ``rows`` on ``conn``, in its transaction."""
        one = "(" + ", ".join("?" * self.width) + ")"
        if conn.dialect.paramstyle != "qmark":
            sql = f"{self.head} VALUES {one}".replace("?", "%s")
            # One row: a plain execute (psycopg's executemany adds a pipeline round trip).
            conn.exec_driver_sql(sql, tuple(rows[0]) if len(rows) == 1 else list(map(tuple, rows)))
            return
        step = SQLITE_MAX_VARIABLES // self.width
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            values = [value for row in chunk for value in row]
            conn.exec_driver_sql(
                f"{self.head} VALUES " + ", ".join([one] * len(chunk)), tuple(values)
            )


def bound_timestamp(conn: Connection, column: Column[Any], moment: datetime) -> Any:
    """``moment`` as ``column``'s type sends it to ``conn``'s driver."""
    dialect = conn.dialect
    to_db = column.type.dialect_impl(dialect).bind_processor(dialect)
    return to_db(moment) if to_db is not None else moment
