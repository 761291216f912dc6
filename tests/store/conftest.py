"""Fixtures of the store suite: one behavioural suite, run on SQLite and on PostgreSQL.

The `store` fixture yields a freshly migrated store: on SQLite a file in ``tmp_path``; on
PostgreSQL a fresh schema of the ``test`` database (``search_path`` set in the URL), dropped at
the end of the test. PostgreSQL cases carry the ``postgres`` marker. When the server cannot be
reached they skip with the reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from anchor.store import Store, open_store
from tests.support.pg import fresh_schema
from tests.support.store import TEST_PEPPER, make_issuer


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema for one test, as a SQLAlchemy URL; dropped afterwards."""
    with fresh_schema() as url:
        yield url


TABLES = (
    "status_changes, document_facts, outbox_batches, outbox, receipts, idempotency_records, "
    "batches, api_keys, integrators, issuer_keys, issuers"
)


@pytest.fixture(scope="module")
def pg_module_url() -> Iterator[str]:
    """A migrated PostgreSQL schema shared by one test module; dropped at the module's end."""
    with fresh_schema() as url:
        open_store(url, migrate=True).close()
        yield url


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """The URL of an EMPTY database (never migrated) on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/anchor.db"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Store]:
    """A migrated store with no rows: a new SQLite file, or the module's PostgreSQL schema
    truncated."""
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path}/anchor.db", migrate=True, key_pepper=TEST_PEPPER)
    else:
        opened = open_store(request.getfixturevalue("pg_module_url"), key_pepper=TEST_PEPPER)
        with opened.engine.begin() as conn:  # DELETE: much faster than TRUNCATE on tiny tables
            for table in TABLES.split(", "):
                conn.exec_driver_sql(f"DELETE FROM {table}")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def integrator_id(store: Store) -> int:
    """The id of a fresh integrator of a fresh, onboarded body."""
    return store.create_integrator("Commune de Test", make_issuer(store)).id
