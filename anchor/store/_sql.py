"""The two tricks of the store's bulk paths, written once: placeholders and bound timestamps.

The intake and the batcher send ``executemany`` straight to the driver, which wants its own
placeholder style (``?`` for sqlite3, ``%s`` for psycopg); the statements are constants with
``?`` marks and every value is bound. A timestamp goes through the column type's bind
processing once per statement instead of once per row.
"""

from __future__ import annotations

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


def bound_timestamp(conn: Connection, column: Column[Any], moment: datetime) -> Any:
    """``moment`` as ``column``'s type sends it to ``conn``'s driver."""
    dialect = conn.dialect
    to_db = column.type.dialect_impl(dialect).bind_processor(dialect)
    return to_db(moment) if to_db is not None else moment
