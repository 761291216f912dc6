"""What the watcher keeps in the store: its block cursor, and the roots the service made."""

from __future__ import annotations

from sqlalchemy import select

from anchor.store import models as m
from anchor.store._base import StoreBase


class WatchMixin(StoreBase):
    """The watcher's cursor and root lookups; see `anchor.service.watcher`."""

    def watch_cursor(self, name: str) -> int | None:
        """The next block the watcher ``name`` reads, or None before its first step."""
        with self._reading() as session:
            row = session.get(m.WatchCursor, name)
            return None if row is None else row.next_block

    def set_watch_cursor(self, name: str, next_block: int) -> None:
        """Record that the watcher ``name`` has read every block before ``next_block``."""
        with self._transaction() as session:
            row = session.get(m.WatchCursor, name)
            if row is None:
                session.add(m.WatchCursor(name=name, next_block=next_block, updated_at=m.utcnow()))
            else:
                row.next_block = next_block
                row.updated_at = m.utcnow()

    def knows_root(self, root: bytes) -> bool:
        """True when a batch of this store has ``root`` (whatever its state)."""
        with self._reading() as session:
            found = session.execute(select(m.Batch.id).where(m.Batch.root == root).limit(1))
            return found.first() is not None
