"""GET /v1/receipts/{id} on PostgreSQL, where the read is awaited on the event loop
(`api.offload.receipt_read`): the same answers as on SQLite, and a lost connection answers 503
once, as a thread-pool read did, without disturbing the next request."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from anchor.store import Store, open_store
from tests.api import test_receipts as sqlite_suite
from tests.api.test_receipts import D1, submit
from tests.support.api import Keys
from tests.support.pg import PG_DSN, fresh_schema

pytestmark = pytest.mark.postgres


@pytest.fixture
def store() -> Iterator[Store]:
    """A migrated PostgreSQL store in a fresh schema (overrides the suite's SQLite store)."""
    with fresh_schema() as url:
        opened = open_store(url, migrate=True, key_pepper=b"pepper of the PostgreSQL GET tests")
        assert opened.reads_async
        yield opened
        opened.close()


# The SQLite suite's read test, collected here again with this module's PostgreSQL store: the
# same answers (200, 404 for another integrator's or an unknown receipt, 410 once erased; the QR
# codes' 409 and 410) when the read is awaited on the loop.
test_read_receipt_on_postgresql = sqlite_suite.test_read_receipt_status_and_ownership


def test_a_lost_connection_answers_503_once(client: TestClient, keys: Keys, store: Store) -> None:
    rid = submit(client, keys.submit, [D1])["receipts"][0]["id"]  # type: ignore[index]
    headers = Keys.headers(keys.read)
    with client:  # one event loop for every request, as under uvicorn
        assert client.get(f"/v1/receipts/{rid}", headers=headers).status_code == 200
        reads = store._loop_pg
        assert reads is not None
        [conn] = [c for pool in reads._pools.values() for c in pool.idle]
        with psycopg.connect(PG_DSN, autocommit=True) as admin:  # the loop's connection dies
            admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
        lost = client.get(f"/v1/receipts/{rid}", headers=headers)
        assert lost.status_code == 503
        assert lost.json()["detail"] == "the store cannot be reached now; retry later"
        assert client.get(f"/v1/receipts/{rid}", headers=headers).status_code == 200
        assert [c for pool in reads._pools.values() for c in pool.idle] != [conn]
