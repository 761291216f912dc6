"""Holds: submission waits for an operator-fixable cause to go away, without failing anything.

A paused registry, a gas limit below what an anchor needs, an unfunded signer, a node that
refuses the fee, a body's key the registry does not accept: while one lasts the batches stay
frozen (or their transaction waits), a gauge is 1 and one warning says what to do; one line says
when it ends. There are two scopes:

* the relayer's (`Holds` without an issuer): ``anchor_submission_held{cause}``; a paused registry
  or an unfunded relayer stops every body;
* a body's (`Holds` with its issuer id): ``anchor_body_held{issuer,cause}``; that body's batches
  wait, the other bodies' go on. In direct mode every cause of a body's own key is of this scope.

The preflight kinds end when the registry's preflight passes again; the broadcast kinds
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
    FailureCause.MISSING_ROLE: "the signer lacks a role the registry wants; see the logged error",
    FailureCause.GAS_LIMIT: "an anchor needs more gas than ANCHOR_GAS_LIMIT; raise it",
    FailureCause.INSUFFICIENT_FUNDS: "the signer cannot pay for gas; fund its account",
    FailureCause.FEE_TOO_LOW: "the node refuses the fee; check ANCHOR_FEE_MODE and fee caps",
    FailureCause.REVERTED: "the registry refuses the anchor; see the logged error",
    FailureCause.KEY_NOT_VALID: "the registry holds the body's anchoring key as not valid now "
    "(retired, compromised, or the body suspended): the registrar checks `scripts/issuers.py`",
    FailureCause.BAD_SIGNATURE: "the registry does not accept the body's signature (a key "
    "registered for another purpose or unknown to it): check the body's keys on chain",
    FailureCause.KEYSTORE: "the body's keystore cannot be read: check the file under "
    "<data dir>/keys/ and ANCHOR_KEYSTORE_PASSWORD(_FILE)",
    FailureCause.NOT_ONBOARDED: "the body's anchoring key is not registered on chain; the "
    'registrar onboards it (docs/operations.md, "Issuing bodies")',
}


class Holds:
    """The one hold in force in a scope (the relayer's, or one body's), with its metric."""

    def __init__(self, store: Store, metrics: Metrics, issuer: int | None = None) -> None:
        self.store = store
        self.metrics = metrics
        self.issuer = issuer
        self.cause: FailureCause | None = None

    def _gauge(self, cause: FailureCause, value: int) -> None:
        if self.issuer is None:
            self.metrics.held.labels(cause=cause).set(value)
        else:
            self.metrics.body_held.labels(issuer=str(self.issuer), cause=cause).set(value)

    @property
    def _scope(self) -> str:
        return "" if self.issuer is None else f" for issuing body {self.issuer}"

    def hold(self, cause: FailureCause, batch: Batch | None) -> None:
        """Hold for ``cause``, recording it on the frozen ``batch`` that waits for it."""
        if batch is not None and batch.failure_reason != cause:
            self.store.note_hold(batch.id, cause)
        if self.cause == cause:
            return
        self.release(quiet=True)
        self.cause = cause
        self._gauge(cause, 1)
        log.warning(
            "submission held%s (%s): %s",
            self._scope,
            cause,
            ADVICE.get(cause, "see docs/operations.md"),
            extra={"cause": cause, "batch": None if batch is None else batch.id,
                   "issuer": self.issuer},
        )  # fmt: skip

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
        self._gauge(self.cause, 0)
        if not quiet:
            log.info("submission hold ended%s (%s): batches go out again", self._scope, self.cause)
        self.cause = None
