"""Store reads of async routes: on the event loop for a SQLite file, in the thread pool else.

A sync route costs a hand-off to the thread pool and back (about a fifth of a proof GET's CPU
on this stack); a local SQLite read in WAL mode is shorter than that hand-off and never waits
for a writer. `store_read` makes such a read on the loop itself, on the loop's own connection
(`anchor.store.engine.create_loop_engine`); a PostgreSQL read is a network round trip and goes
to the thread pool, so that a slow database never holds the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from anchor.store import Store

T = TypeVar("T")


async def store_read(store: Store, read: Callable[[], T]) -> T:
    """The result of ``read()``, a short store read, made where `Store.reads_on_loop` says."""
    if store.reads_on_loop:
        with store.on_loop():
            return read()
    return await run_in_threadpool(read)
