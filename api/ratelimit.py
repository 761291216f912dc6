"""The API's rate limits, counted by the `limits` library in memory or in Redis.

Three kinds of limit, each a moving window (at most N requests in any window of its length):

- per API key: ``rate_burst`` requests in any ``rate_burst / rate_per_second`` seconds, so a key
  may send its burst at once and ``rate_per_second`` sustained (`per_key_item`);
- per client address on the public routes (``/v1/verify``, ``/v1/roots/…``): `ApiSettings`'
  ``verify_limit`` and ``roots_limit``;
- per client address, failed authentications (``failed_auth_limit``): once spent, a key that is
  not already verified in memory is refused with 429 before the database is asked.

Counts live in this process's memory by default; with ``ANCHOR_REDIS_URL`` they live in Redis,
shared by every API process that uses the same URL and key prefix. Should Redis fail, each
process falls back to its own memory counts (one warning per outage) rather than refuse or
admit everyone.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter
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
        self._memory = MovingWindowRateLimiter(MemoryStorage())
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

    def _hit(self, limiter: MovingWindowRateLimiter, item: RateLimitItem, ids: Any) -> int | None:
        return None if limiter.hit(item, *ids) else self._wait(limiter, item, ids)

    def _check(self, limiter: MovingWindowRateLimiter, item: RateLimitItem, ids: Any) -> int | None:
        return None if limiter.test(item, *ids) else self._wait(limiter, item, ids)

    def _wait(self, limiter: MovingWindowRateLimiter, item: RateLimitItem, ids: Any) -> int:
        reset = limiter.get_window_stats(item, *ids).reset_time
        return max(1, math.ceil(reset - self._clock()))

    async def _call(
        self,
        op: Callable[[MovingWindowRateLimiter, RateLimitItem, Any], int | None],
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
        self._memory.storage.reset()
        if self._shared is not None:
            self._shared.storage.reset()
