"""The API's rate limits, counted by the `limits` library in memory or in Redis.

Three kinds of limit, each a moving window (at most N requests in any window of its length):

- per API key: ``rate_burst`` requests in any ``rate_burst / rate_per_second`` seconds, so a key
  may send its burst at once and ``rate_per_second`` sustained (`per_key_item`);
- per client address on the public routes (``/v1/verify``, ``/v1/roots/…``): `ApiSettings`'
  ``verify_limit`` and ``roots_limit``;
- per client address, failed authentications (``failed_auth_limit``): once spent, a key that is
  not already verified in memory is refused with 429 before the database is asked.

Counts live in this process's memory by default (`MemoryWindows`: the same moving windows,
without the `limits` memory storage's expiry timer, a thread started up to 100 times a second
under load); with ``ANCHOR_REDIS_URL`` they live in Redis,
shared by every API process that uses the same URL and key prefix. Should Redis fail, each
process falls back to its own memory counts (one warning per outage) rather than refuse or
admit everyone.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from limits.util import WindowStats
from starlette.concurrency import run_in_threadpool

log = logging.getLogger(__name__)

REDIS_TIMEOUT = 0.5
"""Seconds a Redis connection or command may take before the memory fallback is used."""


def per_key_item(rate_per_second: float, burst: int) -> RateLimitItem:
    """``burst`` requests per window of ``burst / rate_per_second`` seconds (at least 1 s)."""
    return RateLimitItemPerSecond(burst, max(1, math.ceil(burst / rate_per_second)))


def parse_limit(text: str) -> RateLimitItem:
    """A limit written as `limits` reads it ("30/minute", "5 per second"); ValueError if not."""
    try:
        return parse(text)
    except ValueError as e:
        raise ValueError(f"{text!r} is not a rate limit such as '30/minute'") from e


#: A sweep of the keys whose windows emptied runs once per this many counted requests.
SWEEP_EVERY = 10_000


class _Limiter(Protocol):
    def hit(self, item: RateLimitItem, *identifiers: str) -> bool: ...

    def test(self, item: RateLimitItem, *identifiers: str) -> bool: ...

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats: ...


class MemoryWindows:
    """Moving windows in this process's memory: the times of the requests of each key's last
    window, oldest first. A request is admitted while fewer than ``item.amount`` fall in the
    ``item.get_expiry()`` seconds before it (as `MovingWindowRateLimiter`); expired times are
    dropped when their key is next counted, and keys whose window emptied by a sweep every
    `SWEEP_EVERY` requests. No thread of its own."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        """Count with ``clock`` (seconds)."""
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._expiry: dict[str, int] = {}
        self._lock = threading.Lock()
        self._counted = 0

    def _window(
        self, item: RateLimitItem, identifiers: tuple[str, ...], now: float
    ) -> deque[float]:
        key = item.key_for(*identifiers)
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
            self._expiry[key] = item.get_expiry()
        start = now - item.get_expiry()
        while events and events[0] <= start:
            events.popleft()
        return events

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one request; False (not counted) when the window is full."""
        now = self._clock()
        with self._lock:
            events = self._window(item, identifiers, now)
            if len(events) >= item.amount:
                return False
            events.append(now)
            self._counted += 1
            if self._counted % SWEEP_EVERY == 0:
                self._sweep(now)
            return True

    def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        """True while one more request would be admitted (nothing counted)."""
        with self._lock:
            return len(self._window(item, identifiers, self._clock())) < item.amount

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        """When the oldest request of the window leaves it, and how many more fit now."""
        now = self._clock()
        with self._lock:
            events = self._window(item, identifiers, now)
            reset = events[0] + item.get_expiry() if events else now
            return WindowStats(reset, max(0, item.amount - len(events)))

    def _sweep(self, now: float) -> None:
        """Forget the keys whose every request left their window."""
        gone = [k for k, e in self._events.items() if not e or e[-1] <= now - self._expiry[k]]
        for key in gone:
            del self._events[key], self._expiry[key]

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._events.clear()
            self._expiry.clear()


class RateLimits:
    """The limits of one application and the storage that counts them."""

    def __init__(
        self,
        *,
        per_key: RateLimitItem,
        public: dict[str, RateLimitItem],
        failed_auth: RateLimitItem,
        redis_url: str | None = None,
        key_prefix: str = "anchor-limits",
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Count in memory, or in Redis at ``redis_url`` under ``key_prefix``."""
        self.per_key = per_key
        self.public = dict(public)
        self.failed_auth = failed_auth
        self.redis_url = redis_url
        self._clock = clock
        self._memory = MemoryWindows(clock)
        self._shared: MovingWindowRateLimiter | None = None
        self._degraded = False
        if redis_url is not None:
            storage = RedisStorage(
                redis_url,
                key_prefix=key_prefix,
                wrap_exceptions=True,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
            )
            self._shared = MovingWindowRateLimiter(storage)

    async def hit(self, item: RateLimitItem, *identifiers: str) -> int | None:
        """Count one request; None when within ``item``, else the seconds to wait (>= 1)."""
        return await self._call(self._hit, item, identifiers)

    async def check(self, item: RateLimitItem, *identifiers: str) -> int | None:
        """Like `hit` without counting: None while one more request is allowed."""
        return await self._call(self._check, item, identifiers)

    def _hit(self, limiter: _Limiter, item: RateLimitItem, ids: Any) -> int | None:
        return None if limiter.hit(item, *ids) else self._wait(limiter, item, ids)

    def _check(self, limiter: _Limiter, item: RateLimitItem, ids: Any) -> int | None:
        return None if limiter.test(item, *ids) else self._wait(limiter, item, ids)

    def _wait(self, limiter: _Limiter, item: RateLimitItem, ids: Any) -> int:
        reset = limiter.get_window_stats(item, *ids).reset_time
        return max(1, math.ceil(reset - self._clock()))

    async def _call(
        self,
        op: Callable[[_Limiter, RateLimitItem, Any], int | None],
        item: RateLimitItem,
        ids: tuple[str, ...],
    ) -> int | None:
        if self._shared is None:  # memory: no I/O, answered on the event loop
            return op(self._memory, item, ids)
        try:
            result = await run_in_threadpool(op, self._shared, item, ids)
        except StorageError as e:
            if not self._degraded:
                log.warning("rate limits fall back to memory: Redis failed (%s)", e.storage_error)
                self._degraded = True
            return op(self._memory, item, ids)
        if self._degraded:
            log.warning("rate limits are counted in Redis again")
            self._degraded = False
        return result

    def reset(self) -> None:
        """Forget every count (of this process's memory, and in Redis under the prefix)."""
        self._memory.reset()
        if self._shared is not None:
            self._shared.storage.reset()
