"""Store reads of async routes: on the event loop where the backend allows, else in the threads.

A sync route costs a hand-off to the thread pool and back (about a fifth of a proof GET's CPU
on this stack). A local SQLite read in WAL mode is shorter than that hand-off and never waits
for a writer: `store_read` makes it on the loop itself, on the loop's own connection
(`anchor.store.engine.create_loop_engine`). A PostgreSQL receipt read is awaited on the loop
(`receipt_read`: `Store.receipt_read_async`, one round trip on a psycopg async connection,
bounded by a timeout so that a slow database never holds the loop); other reads go to the
thread pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from anchor.store import ReceiptRead, Store

T = TypeVar("T")


async def store_read(store: Store, read: Callable[[], T]) -> T:
    """The result of ``read()``, a short store read, made where `Store.reads_on_loop` says."""
    if store.reads_on_loop:
        with store.on_loop():
            return read()
    return await run_in_threadpool(read)


async def receipt_read(store: Store, receipt_id: str, integrator_id: int) -> ReceiptRead | None:
    """`Store.receipt_read`, made on the loop: on its own SQLite connection, or awaited on
    PostgreSQL (`Store.receipt_read_async`); in the thread pool for an in-memory store."""
    if store.reads_async:
        return await store.receipt_read_async(receipt_id, integrator_id)
    return await store_read(store, lambda: store.receipt_read(receipt_id, integrator_id))
