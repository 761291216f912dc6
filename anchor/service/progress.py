"""What keeps the pipeline from draining, as metrics and one log line each.

`GapWatch`: a nonce gap, the chain's transaction count for the signer below nonces in flight (a
reorg, a rollback, a node behind the outbox), one watch per signer (the relayer, or each body's
key in direct mode): ``anchor_nonce_gap`` (missing nonces, summed over the signers by the
submitter),
``anchor_nonce_gaps_total`` and one warning when it opens, one line when it is filled.

`StallWatch`: "no progress for N blocks while work is pending". Progress is a batch reaching
finality. While batches wait (frozen or submitted), the watch counts the blocks since the last
progress, or since work began to wait; past ``stall_blocks`` it sets ``anchor_stalled`` and logs
one warning naming the oldest waiting batch and why it waits. It logs again only once progress
resumes. A chain that went backwards (a rollback) restarts the count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from anchor.service.metrics import Metrics
from anchor.store import Batch

log = logging.getLogger(__name__)


@dataclass
class StallWatch:
    """Counts blocks without progress while work is pending; reports a stall once."""

    metrics: Metrics
    stall_blocks: int
    _since: int | None = None
    _seen_progress: int = 0
    stalled: bool = False

    def observe(self, head: int, progress: int, waiting: list[Batch], why: str) -> None:
        """Take the head, the progress count so far, the waiting batches (oldest first), and a
        few words on what the submitter is doing (a hold, a nonce gap, waiting for depth)."""
        if not waiting:
            self._since = None
            self._seen_progress = progress
            self._report(0, None, why)
            return
        if self._since is None or progress != self._seen_progress or head < self._since:
            self._since = head
            self._seen_progress = progress
        self._report(head - self._since, waiting[0], why)

    def _report(self, blocks: int, oldest: Batch | None, why: str) -> None:
        self.metrics.blocks_without_progress.set(blocks)
        if oldest is not None and blocks >= self.stall_blocks and not self.stalled:
            self.stalled = True
            self.metrics.stalled.set(1)
            log.warning(
                "stalled: no batch anchored for %d blocks while batches wait; the oldest, "
                "batch %d, is %s (%s); %s",
                blocks,
                oldest.id,
                oldest.state,
                oldest.failure_reason or "no failure recorded",
                why,
                extra={"batch": oldest.id, "blocks": blocks},
            )
        elif self.stalled and (oldest is None or blocks < self.stall_blocks):
            self.stalled = False
            self.metrics.stalled.set(0)
            log.info("progress resumed: the stall is over")


class GapWatch:
    """Reports nonce gaps: once when one opens, once when it is filled."""

    def __init__(self, metrics: Metrics, signer: str) -> None:
        self.metrics = metrics
        self.signer = signer
        self.open = False
        self.missing = 0
        """Nonces missing below this signer's transactions in flight, at the last look."""

    def observe(self, count: int, nonce: int, above: list[int]) -> None:
        """``count``: the chain's; ``nonce``: the lowest free one from it; ``above``: the nonces
        in flight above that one (a gap when there is any)."""
        missing = above[-1] - nonce + 1 - len(above) if above else 0
        self.missing = missing
        if above and not self.open:
            self.metrics.nonce_gaps.inc()
            log.warning(
                "nonce gap: the node's transaction count for %s is %d and nonce %d is missing "
                "below the transactions in flight at %s (a reorg, a rollback or a node behind "
                "the outbox); filling it with the oldest waiting batch first",
                self.signer,
                count,
                nonce,
                above,
                extra={"nonce": nonce, "count": count},
            )
        elif self.open and not above:
            log.info("nonce gap filled")
        self.open = bool(above)
