"""The short cache of registry readings."""

from __future__ import annotations

from anchor.chain.cache import TTLCache


def test_ttl_cache() -> None:
    now = [0.0]
    cache: TTLCache[int] = TTLCache(5, max_entries=2, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.get("a") is None and cache.get("b") == 2  # the oldest went first
    now[0] = 5.0
    assert cache.get("c") is None  # expired
    off: TTLCache[int] = TTLCache(0)
    off.put("a", 1)
    assert off.get("a") is None
