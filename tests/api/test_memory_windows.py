"""`MemoryWindows`: the in-memory moving windows of the rate limits, on a clock of our own."""

from __future__ import annotations

import threading

from limits import RateLimitItemPerSecond

from api import ratelimit
from api.ratelimit import MemoryWindows


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_at_most_amount_in_any_window_and_the_wait_until_the_oldest_leaves() -> None:
    clock = Clock()
    windows = MemoryWindows(clock)
    item = RateLimitItemPerSecond(3, 10)  # 3 in any 10 s
    for step in (0.0, 4.0, 4.0):
        clock.now += step
        assert windows.hit(item, "key", "1")
    clock.now += 1.0  # 1009: the three of 1000, 1004, 1008 are all within 10 s
    assert not windows.hit(item, "key", "1")
    assert not windows.test(item, "key", "1")
    assert windows.get_window_stats(item, "key", "1").reset_time == 1010.0
    assert windows.hit(item, "key", "2")  # another key has its own window
    clock.now = 1010.0  # the request of 1000 left the window: one more fits, not two
    assert windows.test(item, "key", "1")
    assert windows.hit(item, "key", "1")
    assert not windows.hit(item, "key", "1")


def test_a_refused_request_is_not_counted() -> None:
    clock = Clock()
    windows = MemoryWindows(clock)
    item = RateLimitItemPerSecond(1, 1)
    assert windows.hit(item, "k")
    for _ in range(100):
        clock.now += 0.001
        assert not windows.hit(item, "k")
    clock.now = 1001.0  # had the refusals counted, the window would still be full
    assert windows.hit(item, "k")


def test_the_sweep_forgets_only_keys_whose_window_emptied() -> None:
    clock = Clock()
    windows = MemoryWindows(clock)
    short, long = RateLimitItemPerSecond(5, 1), RateLimitItemPerSecond(5, 3600)
    windows.hit(short, "gone")
    windows.hit(long, "kept")
    clock.now += 10
    windows._sweep(clock.now)
    assert list(windows._events) == [long.key_for("kept")]
    for _ in range(4):
        assert windows.hit(long, "kept")
    assert not windows.hit(long, "kept")  # its five requests are still counted


def test_sweeps_run_while_counting_and_starts_no_thread() -> None:
    clock = Clock()
    windows = MemoryWindows(clock)
    item = RateLimitItemPerSecond(1, 1)
    threads = threading.active_count()
    for i in range(ratelimit.SWEEP_EVERY):
        clock.now += 2
        assert windows.hit(item, str(i))
    assert len(windows._events) < ratelimit.SWEEP_EVERY  # the sweep dropped the expired keys
    assert threading.active_count() == threads
