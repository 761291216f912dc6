"""`Store.receipt_read_async` and `anchor.store.loop_pg`: PostgreSQL reads made on the loop.

The API awaits them on its event loop (`api.offload.receipt_read`), so they must answer exactly
as the thread-pool read does, see every commit, never hold the loop beyond their timeout when
the server is slow, dead or mute, fail as StoreError (503), and never put back in the pool a
connection whose read failed or was cancelled.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from anchor.service.batcher import close_batches
from anchor.service.intake import submit
from anchor.store import Store, StoreError, open_store
from anchor.store.loop_pg import LOOP_APPLICATION_NAME, LOOP_POOL_SIZE, LoopReads, LoopStatement
from tests.store.test_facts import permit
from tests.support.pg import PG_DSN
from tests.support.store import TEST_PEPPER, digest_hex, make_issuer

pytestmark = pytest.mark.postgres

SLEEP = LoopStatement("SELECT 1 FROM pg_sleep(%(seconds)s)", ("one",), (None,))
"""A read the server takes ``seconds`` to answer."""


@pytest.fixture
def pg_store(pg_module_url: str) -> Iterator[Store]:
    """The module's PostgreSQL store, emptied (as `store` does on its PostgreSQL side)."""
    from tests.store.conftest import TABLES

    opened = open_store(pg_module_url, key_pepper=TEST_PEPPER)
    with opened.engine.begin() as conn:
        for table in TABLES.split(", "):
            conn.exec_driver_sql(f"DELETE FROM {table}")
    yield opened
    opened.close()


def _idle(reads: LoopReads) -> list[psycopg.AsyncConnection[object]]:
    return list(reads._pools[asyncio.get_running_loop()].idle)


def test_only_postgresql_reads_async(store: Store) -> None:
    assert store.reads_async is (store.dialect == "postgresql")


def test_async_reads_answer_as_the_thread_pool_read(pg_store: Store) -> None:
    store = pg_store
    integrator = store.create_integrator("Commune", make_issuer(store)).id
    other = store.create_integrator("SIGI", make_issuer(store, "SIGI", body_id=2)).id
    [typed] = store.add_documents([permit()], integrator)
    anchored = submit(store, [digest_hex(i) for i in range(3)], integrator)
    [batch_id] = close_batches(store, 4, 3600)
    store.mark_batch_anchored(batch_id, b"\x01" * 32, 10, b"\x02" * 32)
    [pending, erased] = submit(store, [digest_hex(8), digest_hex(9)], integrator)
    store.erase(erased.id, integrator)
    cases = [(r.id, integrator) for r in (typed, *anchored, pending, erased)]
    cases += [("unknown", integrator), (typed.id, other), (pending.id, other)]

    async def both() -> None:
        for receipt_id, owner in cases:
            expected = store.receipt_read(receipt_id, owner)
            assert await store.receipt_read_async(receipt_id, owner) == expected
        found = await store.receipt_read_async(typed.id, integrator)
        assert found is not None and found.document is not None and found.batch is not None
        assert found.receipt.created_at.utcoffset() is not None  # aware UTC, as SQLAlchemy's
        assert found.body_id == 1
        gone = await store.receipt_read_async(erased.id, integrator)
        assert gone is not None and gone.receipt.is_erased and gone.receipt.digest is None
        for receipt_id, owner in cases[-3:]:
            assert await store.receipt_read_async(receipt_id, owner) is None

    asyncio.run(both())


def test_an_async_read_sees_each_commit(pg_store: Store) -> None:
    store = pg_store
    integrator = store.create_integrator("Commune", make_issuer(store)).id

    async def reads() -> None:
        [receipt] = submit(store, [digest_hex(1)], integrator)
        first = await store.receipt_read_async(receipt.id, integrator)
        assert first is not None and first.batch is None
        [batch_id] = close_batches(store, 1, 3600)  # committed by another connection
        again = await store.receipt_read_async(receipt.id, integrator)
        assert again is not None and again.batch is not None and again.batch.id == batch_id
        store.erase(receipt.id, integrator)
        last = await store.receipt_read_async(receipt.id, integrator)
        assert last is not None and last.receipt.is_erased

    asyncio.run(reads())


def test_a_terminated_connection_fails_one_read_then_is_replaced(pg_store: Store) -> None:
    store = pg_store
    integrator = store.create_integrator("Commune", make_issuer(store)).id
    [receipt] = submit(store, [digest_hex(2)], integrator)
    reads = store._loop_pg
    assert reads is not None

    async def scenario() -> None:
        assert await store.receipt_read_async(receipt.id, integrator) is not None
        [conn] = _idle(reads)
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
        with pytest.raises(StoreError, match="database error"):
            await store.receipt_read_async(receipt.id, integrator)
        assert _idle(reads) == [] and conn.closed  # dropped, never handed out again
        assert await store.receipt_read_async(receipt.id, integrator) is not None

    asyncio.run(scenario())


@pytest.fixture
def mute_server() -> Iterator[str]:
    """A libpq URI of a TCP server on a free port of 127.0.0.1 that accepts and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"postgresql://postgres@127.0.0.1:{listener.getsockname()[1]}/test"
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


async def _ticks_during(read: asyncio.Task[object], every: float = 0.02) -> int:
    """How many times the loop ran another task while ``read`` was pending."""
    ticks = 0
    while not read.done():
        await asyncio.sleep(every)
        ticks += 1
    return ticks


def test_a_mute_server_fails_the_read_within_its_timeout_and_never_holds_the_loop(
    mute_server: str,
) -> None:
    reads = LoopReads(mute_server, timeout=0.5)

    async def scenario() -> None:
        started = time.monotonic()
        read = asyncio.ensure_future(reads.fetch_one(SLEEP, {"seconds": 0}))
        ticks = await _ticks_during(read)
        with pytest.raises(StoreError, match=r"timed out after 0\.5 s"):
            await read
        assert time.monotonic() - started < 1.5
        assert ticks >= 10  # the loop served others all along (0.5 s of 20-ms ticks)
        assert _idle(reads) == []

    asyncio.run(scenario())
    reads.close()


def test_a_dead_server_fails_the_read_at_once() -> None:
    with socket.socket() as probe:  # a free port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reads = LoopReads(f"postgresql://postgres@127.0.0.1:{port}/test", timeout=5)

    async def scenario() -> None:
        started = time.monotonic()
        with pytest.raises(StoreError, match="database error"):
            await reads.fetch_one(SLEEP, {"seconds": 0})
        assert time.monotonic() - started < 2

    asyncio.run(scenario())


def _sleep(token: str) -> LoopStatement:
    """`SLEEP`, marked with ``token`` so that ``pg_stat_activity`` tells its backend apart."""
    return LoopStatement(f"SELECT 1 FROM pg_sleep(%(seconds)s) -- {token}", ("one",), (None,))


def _running(token: str) -> int:
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND query LIKE %s",
            [LOOP_APPLICATION_NAME, f"%{token}%"],
        ).fetchone()
    return int(row[0]) if row else 0


def _gone(token: str, within: float) -> bool:
    deadline = time.monotonic() + within
    while _running(token):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture
def pg_reads(pg_store: Store) -> Iterator[LoopReads]:
    """Loop reads on the test database with short bounds: 0.5 s per read, 1 s per statement."""
    reads = LoopReads.for_engine(pg_store.engine, timeout=0.5, statement_timeout_ms=1000)
    assert reads is not None
    yield reads
    reads.close()


def test_a_slow_statement_fails_within_the_timeout_and_its_connection_is_dropped(
    pg_reads: LoopReads,
) -> None:
    token = secrets.token_hex(8)

    async def scenario() -> None:
        assert await pg_reads.fetch_one(SLEEP, {"seconds": 0}) == {"one": 1}
        started = time.monotonic()
        read = asyncio.ensure_future(pg_reads.fetch_one(_sleep(token), {"seconds": 5}))
        ticks = await _ticks_during(read)
        with pytest.raises(StoreError, match="timed out"):
            await read
        assert time.monotonic() - started < 1.5 and ticks >= 10
        assert _idle(pg_reads) == []  # the connection that held the statement is closed
        assert await pg_reads.fetch_one(SLEEP, {"seconds": 0}) == {"one": 1}

    asyncio.run(scenario())
    assert _gone(token, within=5), "the server still runs the abandoned statement"


def test_a_cancelled_read_leaks_no_connection(pg_reads: LoopReads) -> None:
    """A client that goes away mid-read cancels its request's task: each such read gives its
    slot back and closes its connection (the server ends the statement), more times than the
    pool has slots; a read then still gets a connection."""
    token = secrets.token_hex(8)
    slow = _sleep(token)

    async def scenario() -> None:
        for _ in range(LOOP_POOL_SIZE + 2):
            read = asyncio.ensure_future(pg_reads.fetch_one(slow, {"seconds": 0.6}))
            await asyncio.sleep(0.15)
            read.cancel()
            with pytest.raises(asyncio.CancelledError):
                await read
            assert _idle(pg_reads) == []
        assert await pg_reads.fetch_one(SLEEP, {"seconds": 0}) == {"one": 1}
        assert len(_idle(pg_reads)) == 1

    asyncio.run(scenario())
    assert _gone(token, within=5), "a cancelled read left its backend running"


def test_a_closed_store_makes_no_async_read(pg_store: Store) -> None:
    pg_store.close()
    with pytest.raises(StoreError, match="closed"):
        asyncio.run(pg_store.receipt_read_async("any", 1))
