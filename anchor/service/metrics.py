"""Prometheus metrics of the anchoring service, on a registry of their own (no globals).

Every ``cause`` label is a value of `anchor.types.FailureCause`; every ``issuer`` label is the
service's id of an issuing body (`anchor issuers list`).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """The service's metrics; one instance per process, passed explicitly."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.pending_digests = Gauge(
            "anchor_pending_digests", "Digests taken but not yet in a batch", registry=r
        )
        self.oldest_unanchored_age = Gauge(
            "anchor_oldest_unanchored_age_seconds",
            "Age of the oldest acknowledged digest that is not anchored yet",
            registry=r,
        )
        self.batch_size = Histogram(
            "anchor_batch_size_digests",
            "Digests per closed batch",
            buckets=(1, 10, 100, 1_000, 10_000, 65_536, 1_000_000),
            registry=r,
        )
        self.submissions = Counter(
            "anchor_submissions_total", "Anchor transactions broadcast, bumps included", registry=r
        )
        self.failures = Counter(
            "anchor_submission_failures_total",
            "Submission failures by cause (refusals, reverts, failover, permanent failures)",
            ["cause"],
            registry=r,
        )
        self.anchored_batches = Counter(
            "anchor_anchored_batches_total", "Batches that reached finality", registry=r
        )
        self.requeued_batches = Counter(
            "anchor_requeued_batches_total",
            "Batches sent back to submission (reorg, dropped or replaced transaction)",
            ["cause"],
            registry=r,
        )
        self.last_anchored_block = Gauge(
            "anchor_last_anchored_block", "Block number of the last final anchor", registry=r
        )
        self.held = Gauge(
            "anchor_submission_held",
            "1 while submission is held by an operator-fixable cause (paused, missing role...)",
            ["cause"],
            registry=r,
        )
        self.nonce_gap = Gauge(
            "anchor_nonce_gap",
            "Nonces missing between the chain's transaction count and the lowest in flight",
            registry=r,
        )
        self.nonce_gaps = Counter(
            "anchor_nonce_gaps_total",
            "Nonce gaps found (reorg, rollback, lagging node) and filled",
            registry=r,
        )
        self.blocks_without_progress = Gauge(
            "anchor_blocks_without_progress",
            "Blocks since a batch was last anchored while batches wait (0 when none wait)",
            registry=r,
        )
        self.stalled = Gauge(
            "anchor_stalled",
            "1 while batches wait and none was anchored for the configured number of blocks",
            registry=r,
        )
        # Per issuing body (label: its id in the store).
        self.body_pending = Gauge(
            "anchor_body_pending_digests",
            "Digests of a body taken but not yet in a batch",
            ["issuer"],
            registry=r,
        )
        self.body_oldest_pending_age = Gauge(
            "anchor_body_oldest_pending_age_seconds",
            "Age of a body's oldest digest not yet in a batch",
            ["issuer"],
            registry=r,
        )
        self.body_batches = Gauge(
            "anchor_body_batches",
            "Batches of a body by state (frozen, submitted, anchored, failed)",
            ["issuer", "state"],
            registry=r,
        )
        self.body_failures = Counter(
            "anchor_body_failures_total",
            "Submission failures and holds of a body, by cause",
            ["issuer", "cause"],
            registry=r,
        )
        self.body_held = Gauge(
            "anchor_body_held",
            "1 while a body's batches are held by a cause of its own (its key, its signature)",
            ["issuer", "cause"],
            registry=r,
        )
        self.body_onboarded = Gauge(
            "anchor_body_onboarded",
            "1 once a body's anchoring key is registered on chain; 0 while its digests wait",
            ["issuer"],
            registry=r,
        )
        self.relayer_balance = Gauge(
            "anchor_relayer_balance_wei",
            "Balance of the relayer account (paid-gas networks; it pays every relayed anchor)",
            registry=r,
        )
