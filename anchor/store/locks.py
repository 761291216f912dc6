"""The one-writer lock: only one process may sign with a key at a time.

Two workers signing with the same key would race for the same nonce. On PostgreSQL the lock is
a session advisory lock keyed by the signer address, held on one connection of the store's
engine; on SQLite it is a file lock next to the database file. A second worker waits for the
lock (saying so every ``wait_log_every`` seconds), then takes over.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock
from sqlalchemy import text

from anchor.store._base import StoreBase

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.5


class LocksMixin(StoreBase):
    """The writer lock of a signing key; see `anchor.store.Store`."""

    @contextlib.contextmanager
    def writer_lock(self, signer: str, wait_log_every: float = 10.0) -> Iterator[None]:
        """Hold the one-writer lock of ``signer`` for the duration of the block; wait for it."""
        if self.dialect == "postgresql":
            with self._advisory_lock(signer, wait_log_every):
                yield
            return
        database = self.engine.url.database
        if not database or database == ":memory:":
            yield  # a private in-memory database: no other process can reach it
            return
        lock = FileLock(str(Path(database).with_name(f"writer-{signer.lower()}.lock")))
        while True:
            try:
                lock.acquire(timeout=wait_log_every)
                break
            except TimeoutError:
                log.info("another worker holds the writer lock of %s; waiting", signer)
        try:
            yield
        finally:
            lock.release()

    @contextlib.contextmanager
    def _advisory_lock(self, signer: str, wait_log_every: float) -> Iterator[None]:
        key = int.from_bytes(
            hashlib.sha256(signer.lower().encode()).digest()[:8], "big", signed=True
        )
        with self._guard(), self.engine.connect() as conn:
            last_said = 0.0
            while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                conn.rollback()
                if time.monotonic() - last_said >= wait_log_every:
                    log.info("another worker holds the writer lock of %s; waiting", signer)
                    last_said = time.monotonic()
                time.sleep(_POLL_SECONDS)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
