"""Holds: submission waits for an operator-fixable cause to go away, without failing anything.

A paused registry, a missing role, a gas limit below what an anchor needs, an unfunded signer, a
node that refuses the fee: while one lasts the batches stay frozen (or their transaction waits),
``anchor_submission_held{cause}`` is 1 and one warning says what to do; one line says when it
ends. The first two kinds end when the registry's preflight passes again; the broadcast kinds
(`BROADCAST_HOLDS`) end when a transaction is accepted.
"""

from __future__ import annotations

import logging

from anchor.service.metrics import Metrics
from anchor.store import Batch, Store
from anchor.types import FailureCause

log = logging.getLogger(__name__)

#: Holds that a successful broadcast ends; the others end when the preflight passes again.
BROADCAST_HOLDS = (FailureCause.FEE_TOO_LOW, FailureCause.INSUFFICIENT_FUNDS)

#: What an operator reads while submission is held.
ADVICE = {
    FailureCause.PAUSED: "the registry is paused; batches go out when it is unpaused",
    FailureCause.MISSING_ROLE: "the signer lacks ISSUER_ROLE; grant it (scripts/issuers.py)",
    FailureCause.GAS_LIMIT: "an anchor needs more gas than ANCHOR_GAS_LIMIT; raise it",
    FailureCause.INSUFFICIENT_FUNDS: "the signer cannot pay for gas; fund its account",
    FailureCause.FEE_TOO_LOW: "the node refuses the fee; check ANCHOR_FEE_MODE and fee caps",
    FailureCause.REVERTED: "the registry refuses the anchor; see the logged error",
}


class Holds:
    """The one hold in force, if any, with its metric and its log lines."""

    def __init__(self, store: Store, metrics: Metrics) -> None:
        self.store = store
        self.metrics = metrics
        self.cause: FailureCause | None = None

    def hold(self, cause: FailureCause, batch: Batch | None) -> None:
        """Hold for ``cause``, recording it on the frozen ``batch`` that waits for it."""
        if batch is not None and batch.failure_reason != cause:
            self.store.note_hold(batch.id, cause)
        if self.cause == cause:
            return
        self.release(quiet=True)
        self.cause = cause
        self.metrics.held.labels(cause=cause).set(1)
        log.warning(
            "submission held (%s): %s",
            cause,
            ADVICE.get(cause, "see docs/operations.md"),
            extra={"cause": cause, "batch": None if batch is None else batch.id},
        )

    def preflight_passed(self) -> None:
        """The registry accepts an anchor again: end a hold that was not about broadcasting."""
        if self.cause not in BROADCAST_HOLDS:
            self.release()

    def broadcast_accepted(self) -> None:
        """A node accepted a transaction: end a hold about fees or funds."""
        if self.cause in BROADCAST_HOLDS:
            self.release()

    def release(self, *, quiet: bool = False) -> None:
        """End the hold in force, if any."""
        if self.cause is None:
            return
        self.metrics.held.labels(cause=self.cause).set(0)
        if not quiet:
            log.info("submission hold ended (%s): batches go out again", self.cause)
        self.cause = None
