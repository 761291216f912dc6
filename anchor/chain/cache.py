"""A short-lived, bounded, thread-safe cache of registry readings.

Public verifications of the same root come in bursts (a permit's QR code scanned by a crowd);
re-reading the registry for each would put the public's load on the nodes. A reading is reused
for ``ttl`` seconds, so a revocation shows within that time; ``ttl = 0`` turns the cache off.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

#: Readings kept at most; the oldest are dropped first.
MAX_ENTRIES = 4096


class TTLCache(Generic[V]):
    """Values by key, each for ``ttl`` seconds after it was read."""

    def __init__(
        self,
        ttl: float,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Keep up to ``max_entries`` values, each for ``ttl`` seconds of ``clock``."""
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._values: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        """The value read under ``key`` less than ``ttl`` seconds ago, else None."""
        with self._lock:
            found = self._values.get(key)
            if found is None:
                return None
            if self._clock() >= found[0]:
                del self._values[key]
                return None
            return found[1]

    def put(self, key: Hashable, value: V) -> V:
        """Keep ``value`` under ``key`` for ``ttl`` seconds; return it."""
        if self.ttl <= 0:
            return value
        with self._lock:
            self._values[key] = (self._clock() + self.ttl, value)
            self._values.move_to_end(key)
            while len(self._values) > self.max_entries:
                self._values.popitem(last=False)
        return value
