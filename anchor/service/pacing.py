"""When a lane sends while one of its transactions waits: in the send window before a block.

A lane sends at once when none of its transactions waits for inclusion. While one waits, a
batch frozen now would wait for that transaction's block and go out for the one after it: a
whole block lost. So a lane with transactions waiting sends one more in the *send window* of
each block, the last ``lead`` seconds before the next head is due, carrying everything frozen
by then (the worker closes, in that window, every batch that would come due before the block
after: see `anchor.service.worker`), up to ``max_in_flight`` of its transactions waiting at
once (`anchor.service.submitter`).

The next head is predicted from the heads seen: the block interval from their chain timestamps,
the phase from the wall-clock moments they were first seen (a head is never seen before it
exists, so the earliest over the recent heads is the tightest; the first head read after a
start or a reorg may have been there for most of a block, and gives no phase). A worker that
starts reads the blocks before its first head (`HeadClock.seed`): their timestamps give the
interval at once, so that windows open from the first block that comes while it watches, not
after three blocks of one transaction at a time. Without a regular interval (automine, blocks
mined on demand, fewer than three blocks known, an interval under a second, a chain that
stopped) there is no window, and a lane keeps to one transaction waiting at a time.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

#: Heads kept for the prediction.
HEADS_KEPT = 8

#: A shorter block interval gets no window (automine, blocks mined on demand).
MIN_INTERVAL = 1.0

#: Seconds after a predicted head at which the worker looks for it.
SEEN_MARGIN = 0.05

#: Sends in a window whose duration sets the lead, and the margin added to the longest.
SENDS_KEPT = 4
SEND_MARGIN = 0.25


@dataclass(frozen=True)
class Window:
    """The send window of the block ``number``, due at ``due`` (wall clock)."""

    number: int
    due: float
    interval: float


class HeadClock:
    """Predicts the next head from the heads seen; see the module's docstring."""

    def __init__(self, lead: float, clock: Callable[[], float] = time.time) -> None:
        """``lead``: seconds before a predicted head at which its send window opens, at least
        (`took` widens it to what sending in a window takes)."""
        self.base_lead = lead
        self._clock = clock
        # (number, timestamp, seen): ``seen`` is None for the first head read after a start
        # or a reorg, which may have been there for most of a block already.
        self._heads: deque[tuple[int, int, float | None]] = deque(maxlen=HEADS_KEPT)
        self._history: list[tuple[int, int]] = []
        self.seeded = False
        self._took: deque[float] = deque(maxlen=SENDS_KEPT)

    @property
    def lead(self) -> float:
        """Seconds before a predicted head at which its window opens: ``lead``, or the longest
        of the last sends in a window plus `SEND_MARGIN` when that is more."""
        return max(self.base_lead, max(self._took, default=0.0) + SEND_MARGIN)

    def took(self, seconds: float) -> None:
        """Note how long sending in a window took (closing batches to broadcast)."""
        self._took.append(seconds)

    def seed(self, blocks: list[tuple[int, int]]) -> None:
        """Note the blocks read from the chain before the first head (number and timestamp,
        oldest first): their timestamps count for the interval, never for the phase (they
        were not seen as they came). Only their most recent regular run is kept: blocks
        mined on demand before interval mining began say nothing of the interval."""
        self.seeded = True
        known = sorted(set(blocks))
        start = len(known) - 1
        while start > 0 and _steady(known[start - 1 :]):
            start -= 1
        self._history = known[start:]

    def observe(self, number: int, timestamp: int) -> None:
        """Note a head (its number and chain timestamp) at the moment it is read."""
        if self._heads:
            last = self._heads[-1][0]
            if number == last:
                return
            if number < last:  # a reorg or a rollback: the phase is lost with it
                self._heads.clear()
                self._history = []
        elif self._history and number <= self._history[-1][0]:
            self._history = []  # the chain went back below the blocks read
        self._heads.append((number, timestamp, self._clock() if self._heads else None))

    def next_block(self) -> Window | None:
        """The block due next, or None when the heads are not regular enough to predict it."""
        if not self._heads:
            return None
        first_seen = self._heads[0][0]
        stamps = [b for b in self._history if b[0] < first_seen]
        stamps = (stamps + [(n, t) for n, t, _ in self._heads])[-HEADS_KEPT:]
        interval = _regular(stamps)
        if interval is None:
            return None  # blocks mined on demand, an interval that changes, too few blocks
        last = self._heads[-1]
        # Where the last head would have been seen, from each head: lag makes them later.
        seen = [s + (last[0] - n) * interval for n, _, s in self._heads if s is not None]
        if not seen or max(seen) - min(seen) > 0.75 * interval:
            return None  # blocks mined on demand at a steady pace, not on a clock
        due = min(seen) + interval
        if self._clock() > due + interval:
            return None  # the chain stopped or slowed: the prediction no longer holds
        return Window(last[0] + 1, due, interval)

    def open_window(self) -> Window | None:
        """The next block's window when it is open now, else None."""
        window = self.next_block()
        if window is None or self._clock() < window.due - self.lead:
            return None
        return window

    def before(self, window: Window) -> bool:
        """True while ``window``'s block is not due yet (its head cannot have come)."""
        return self._clock() < window.due

    def wake_in(self) -> float | None:
        """Seconds until the worker should step again for the chain: the next window opening,
        or just after the next head; None when there is no prediction."""
        window = self.next_block()
        if window is None:
            return None
        now = self._clock()
        opens = window.due - self.lead
        if now < opens:
            return opens - now
        seen_at = window.due + SEEN_MARGIN
        return max(seen_at - now, SEEN_MARGIN)


def _steady(blocks: list[tuple[int, int]]) -> bool:
    """True when consecutive ``blocks`` (oldest first) came at least `MIN_INTERVAL` apart and
    their gaps differ by one second at most (whole-second timestamps): stricter than `_regular`,
    whose tolerance would let an automined block through at the start of interval mining."""
    gaps = [b[1] - a[1] for a, b in itertools.pairwise(blocks)]
    steady = all(b[0] - a[0] == 1 for a, b in itertools.pairwise(blocks))
    return steady and min(gaps) >= MIN_INTERVAL and max(gaps) - min(gaps) <= 1


def _regular(blocks: list[tuple[int, int]]) -> float | None:
    """The block interval of ``blocks`` (number, timestamp; oldest first, at least three), or
    None when they are too few, come faster than `MIN_INTERVAL` or at uneven times."""
    if len(blocks) < 3:
        return None
    first, last = blocks[0], blocks[-1]
    interval = (last[1] - first[1]) / (last[0] - first[0])
    if interval < MIN_INTERVAL:
        return None
    pairs = itertools.pairwise(blocks)
    if any(abs((b[1] - a[1]) - interval * (b[0] - a[0])) > 1 + 0.25 * interval for a, b in pairs):
        return None
    return interval
