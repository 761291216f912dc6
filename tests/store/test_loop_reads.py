"""`Store.on_loop`: the reads an API route makes on its event loop (SQLite file stores only).

What the API relies on (`api.offload.store_read`): such a read never waits for a writer (WAL),
never waits for a pooled connection that the threads hold, and sees every commit; PostgreSQL and
in-memory stores do not offer it (their reads go to the thread pool).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from anchor.service.intake import submit
from anchor.store import Store, open_store
from anchor.store.engine import PG_MAX_OVERFLOW, PG_POOL_SIZE
from tests.support.store import TEST_PEPPER, digest_hex, make_issuer


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path}/anchor.db", migrate=True, key_pepper=TEST_PEPPER)
    yield opened
    opened.close()


def test_only_a_sqlite_file_reads_on_the_loop(store: Store) -> None:
    assert store.reads_on_loop is (store.dialect == "sqlite")
    memory = open_store("sqlite://", migrate=True)
    assert not memory.reads_on_loop  # a second engine would open another, empty database
    memory.close()


def test_a_loop_read_does_not_wait_for_a_writer(sqlite_store: Store) -> None:
    integrator = sqlite_store.create_integrator("Commune", make_issuer(sqlite_store)).id
    [receipt] = submit(sqlite_store, [digest_hex(1)], integrator)
    with sqlite_store.engine.connect() as writer:  # holds the write lock, uncommitted
        writer.exec_driver_sql("DELETE FROM receipts")
        started = time.monotonic()
        with sqlite_store.on_loop():
            found = sqlite_store.receipt_read(receipt.id, integrator)
        assert time.monotonic() - started < 0.5
        assert found is not None and found.receipt.id == receipt.id  # the committed state
        writer.rollback()


def test_a_loop_read_does_not_wait_for_the_threads_pool(sqlite_store: Store) -> None:
    integrator = sqlite_store.create_integrator("Commune", make_issuer(sqlite_store)).id
    [receipt] = submit(sqlite_store, [digest_hex(2)], integrator)
    with ExitStack() as held:  # every pooled connection checked out by "threads"
        for _ in range(PG_POOL_SIZE + PG_MAX_OVERFLOW):
            held.enter_context(sqlite_store.engine.connect())
        done = threading.Event()

        def read() -> None:
            with sqlite_store.on_loop():
                assert sqlite_store.receipt_read(receipt.id, integrator) is not None
            done.set()

        reader = threading.Thread(target=read)
        reader.start()
        assert done.wait(5), "a loop read waited for the shared pool"
        reader.join()


def test_a_loop_read_sees_each_commit(sqlite_store: Store) -> None:
    integrator = sqlite_store.create_integrator("Commune", make_issuer(sqlite_store)).id
    with sqlite_store.on_loop():
        assert sqlite_store.receipt_read("none-yet", integrator) is None
    [receipt] = submit(sqlite_store, [digest_hex(3)], integrator)
    with sqlite_store.on_loop():
        assert sqlite_store.receipt_read(receipt.id, integrator) is not None
    sqlite_store.erase(receipt.id, integrator)
    with sqlite_store.on_loop():
        found = sqlite_store.receipt_read(receipt.id, integrator)
    assert found is not None and found.receipt.is_erased and found.receipt.digest is None
