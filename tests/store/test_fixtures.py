"""The suite's own rules: PostgreSQL skips locally but fails under CI=true; row locking SQL."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from anchor.store.batches import pending_query
from tests.support import pg as pgutil


def test_missing_postgres_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgutil, "_pg_unavailable", lambda: "PostgreSQL is down")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL is down"):
        pgutil.require_postgres()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and PostgreSQL is down"):
        pgutil.require_postgres()


def test_batcher_locks_with_skip_locked_on_postgres() -> None:
    query = pending_query(5, issuer_id=1)
    pg = postgresql.dialect()  # type: ignore[no-untyped-call]
    assert "FOR UPDATE SKIP LOCKED" in str(query.compile(dialect=pg))
    assert "FOR UPDATE" not in str(query.compile(dialect=sqlite.dialect()))
