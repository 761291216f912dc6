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
exists, so the earliest over the recent heads is the tightest). Without a regular interval
(automine, blocks mined on demand, fewer than three heads seen, an interval under a second, a
chain that stopped) there is no window, and a lane keeps to one transaction waiting at a time.
"""

from __future__ import annotations

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
        self._heads: deque[tuple[int, int, float]] = deque(maxlen=HEADS_KEPT)
        self._took: deque[float] = deque(maxlen=SENDS_KEPT)

    @property
    def lead(self) -> float:
        """Seconds before a predicted head at which its window opens: ``lead``, or the longest
        of the last sends in a window plus `SEND_MARGIN` when that is more."""
        return max(self.base_lead, max(self._took, default=0.0) + SEND_MARGIN)

    def took(self, seconds: float) -> None:
        """Note how long sending in a window took (closing batches to broadcast)."""
        self._took.append(seconds)

    def observe(self, number: int, timestamp: int) -> None:
        """Note a head (its number and chain timestamp) at the moment it is read."""
        if self._heads:
            last = self._heads[-1][0]
            if number == last:
                return
            if number < last:  # a reorg or a rollback: the phase is lost with it
                self._heads.clear()
        self._heads.append((number, timestamp, self._clock()))

    def next_block(self) -> Window | None:
        """The block due next, or None when the heads are not regular enough to predict it."""
        if len(self._heads) < 3:
            return None
        first, last = self._heads[0], self._heads[-1]
        interval = (last[1] - first[1]) / (last[0] - first[0])
        if interval < MIN_INTERVAL:
            return None
        # Where the last head would have been seen, from each head: lag makes them later.
        seen = [s + (last[0] - n) * interval for n, _, s in self._heads]
        pairs = zip(self._heads, list(self._heads)[1:], strict=False)
        if max(seen) - min(seen) > 0.75 * interval or any(
            abs((b[1] - a[1]) - interval * (b[0] - a[0])) > 1 + 0.25 * interval for a, b in pairs
        ):
            return None  # blocks mined on demand, or an interval that changes
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
