"""PostgreSQL for tests: the server at 127.0.0.1:5432 (database ``test``), a fresh schema each.

When the server cannot be reached the tests skip with the reason, except under ``CI=true``,
where they fail: CI machines always run PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import psycopg
import pytest

PG_DSN = os.environ.get("ANCHOR_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")
PG_URL = os.environ.get("ANCHOR_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@cache
def _pg_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as e:
        return f"PostgreSQL at {PG_DSN!r} is unreachable: {str(e).strip().splitlines()[0]}"
    return None


def require_postgres() -> None:
    """Skip (or, with CI=true, fail) when PostgreSQL is unreachable."""
    reason = _pg_unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}")
    print(f"skipping: {reason}")
    pytest.skip(reason)


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema as a SQLAlchemy URL; dropped afterwards."""
    require_postgres()
    schema = f"anchor_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
