"""The suite's own rules: PostgreSQL skips locally but fails under CI=true; row locking SQL."""

from __future__ import annotations

import pytest

from anchor.store import Store
from anchor.store.batches import pending_sql
from tests.support import pg as pgutil


def test_missing_postgres_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgutil, "_pg_unavailable", lambda: "PostgreSQL is down")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL is down"):
        pgutil.require_postgres()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and PostgreSQL is down"):
        pgutil.require_postgres()


def test_batcher_locks_with_skip_locked_on_postgres(store: Store) -> None:
    with store.engine.connect() as conn:
        locked, unlocked = pending_sql(conn, lock=True), pending_sql(conn, lock=False)
    assert "FOR UPDATE" not in unlocked
    if store.dialect == "postgresql":
        assert locked.endswith("FOR UPDATE SKIP LOCKED") and "%s" in locked
    else:
        assert locked == unlocked and "?" in locked
