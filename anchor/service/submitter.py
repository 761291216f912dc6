"""Submission: one transaction per batch, nonces kept contiguous with the chain.

Every step of the `Submitter`:

1. re-checks recently anchored batches (`anchor.service.finality`): a reorg or a rollback sends
   them back to submission, whatever depth they had reached;
2. follows each batch in flight against the signer's mined transaction count ``count``: a receipt
   deep enough makes it anchored; a mined revert is diagnosed; a nonce below ``count`` with no
   receipt of ours went to another transaction (the batch goes out again); the transaction at
   ``count`` is rebroadcast, or replaced once it is stuck; one above ``count`` waits behind a gap
   and is only rebroadcast, never replaced (it cannot be mined before the gap is filled);
3. submits: the nonce of a new transaction is the lowest one at or above ``count`` that no
   transaction in flight holds. When transactions in flight sit above it (a *nonce gap*: a reorg,
   a rollback, a node behind the outbox), the oldest frozen batch is signed at that nonce at once,
   ahead of the later ones (with none waiting, the batch just above moves down to it), and the
   gap is reported (metric and one log line, `anchor.service.progress`); otherwise a new
   batch goes out only when no transaction waits for inclusion (one per block: meanwhile digests
   accumulate into the next batch). The signed raw transaction and its nonce are persisted in the
   outbox before broadcast, so a restart rebroadcasts the same bytes.

A batch the registry refuses for a reason an operator can fix (paused, missing role, gas limit,
an unfunded account) is *held*: it stays frozen, no nonce is spent, the cause is a metric and one
log line, and it goes out as soon as the cause is gone. Only a permanent cause (see
`anchor.types.FailureCause.permanent`) ends a batch ``failed``. A transaction the node refuses for
its fee is re-priced from the chain's current fees, never taken for an unavailable node.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from anchor.chain.client import TRANSPORT_ERRORS, ChainClient
from anchor.chain.fees import (
    FeeMode,
    Fees,
    initial_fees,
    is_fee_refusal,
    is_funds_refusal,
    latest_base_fee,
    replacement_fees,
    stored_fees,
)
from anchor.chain.registry import Registry, decode_revert
from anchor.errors import ChainError
from anchor.service.finality import Finality, receipt_of
from anchor.service.holds import Holds
from anchor.service.metrics import Metrics
from anchor.service.progress import GapWatch, StallWatch
from anchor.settings import Settings
from anchor.store import Batch, OutboxEntry, Store
from anchor.types import IN_FLIGHT_OUTBOX_STATES, BatchState, FailureCause, OutboxState

log = logging.getLogger(__name__)

_RECOVERABLE: tuple[type[BaseException], ...] = (ChainError, *TRANSPORT_ERRORS)

#: How nodes say they already hold a transaction (geth, Besu, anvil).
_ALREADY_KNOWN = ("already known", "known transaction", "already imported")

#: Registry errors and what they mean for a batch.
_REVERTS = {
    "AccessControlUnauthorizedAccount": FailureCause.MISSING_ROLE,
    "EnforcedPause": FailureCause.PAUSED,
    "RegistryZeroRoot": FailureCause.INVALID_BATCH,
    "RegistryZeroLeafCount": FailureCause.INVALID_BATCH,
}

#: At most this many nonces are filled in one step.
_MAX_FILLS = 32


@dataclass(frozen=True)
class SubmitterConfig:
    """What the submitter needs from the settings."""

    chain_id: int
    confirmations: int
    fee_mode: FeeMode
    priority_fee_gwei: float
    max_fee_gwei: float
    gas_limit: int
    stuck_after: float
    stall_blocks: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> SubmitterConfig:
        """Take the submission settings."""
        return cls(
            chain_id=settings.chain_id,
            confirmations=settings.confirmations,
            fee_mode=settings.fee_mode,
            priority_fee_gwei=settings.priority_fee_gwei,
            max_fee_gwei=settings.max_fee_gwei,
            gas_limit=settings.gas_limit,
            stuck_after=settings.stuck_after,
            stall_blocks=settings.stall_blocks,
        )


class Submitter:
    """Anchors frozen batches with one signing key and follows them to finality."""

    def __init__(
        self,
        chain: ChainClient,
        account: LocalAccount,
        registry_address: str,
        store: Store,
        config: SubmitterConfig,
        metrics: Metrics | None = None,
    ) -> None:
        self.chain = chain
        self.account = account
        self.registry_address = Web3.to_checksum_address(registry_address)
        self.store = store
        self.config = config
        self.metrics = metrics or Metrics()
        self.finality = Finality(store, self.metrics, account.address, config.confirmations)
        self.stall = StallWatch(self.metrics, config.stall_blocks)
        self.holds = Holds(store, self.metrics)
        self.gaps = GapWatch(self.metrics, account.address)

    # -- the loop body -------------------------------------------------------------------------

    def step(self) -> None:
        """Do one round of re-checking, following and submitting; transport errors fail over."""
        try:
            w3 = self.chain.get()
            registry = Registry(w3, self.registry_address)
            head = w3.eth.get_block("latest")
            self.finality.recheck_anchored(w3, head)
            count = w3.eth.get_transaction_count(self.account.address, "latest")
            awaiting_inclusion = False
            for batch in self.store.batches_in_state(BatchState.SUBMITTED):
                awaiting_inclusion |= self._follow(w3, registry, batch, count)
            self._submit_due(w3, registry, count, awaiting_inclusion)
            waiting = self.store.batches_in_state(BatchState.FROZEN)
            waiting += self.store.batches_in_state(BatchState.SUBMITTED)
            hold, gap = self.holds.cause, self.gaps.open
            why = f"held: {hold}" if hold else "filling a nonce gap" if gap else "in flight"
            self.stall.observe(int(head["number"]), self.finality.anchored_count, waiting, why)
        except _RECOVERABLE as e:
            log.warning("chain unavailable, failing over: %s", e)
            self.metrics.failures.labels(cause=FailureCause.RPC).inc()
            self.chain.invalidate()

    # -- following a batch in flight -----------------------------------------------------------

    def _follow(self, w3: Web3, registry: Registry, batch: Batch, count: int) -> bool:
        """Move a submitted batch on; True while its transaction waits to be included."""
        live = [
            e for e in self.store.outbox_of_batch(batch.id) if e.state in IN_FLIGHT_OUTBOX_STATES
        ]
        if not live:
            # Mined and waiting for depth, or dropped, or lost in a reorg: the registry says.
            record = registry.anchor_of(batch.root)
            if record.anchored:
                self.finality.adopt_existing_anchor(w3, registry, batch, record.issuer)
            else:
                self.finality.requeue(batch, FailureCause.DROPPED)
            return False
        entry = live[-1]  # a fee bump replaces its predecessor: one live row per batch
        receipt = receipt_of(w3, entry.tx_hash)
        if receipt is not None:
            if receipt["status"] == 1:
                self.finality.finalise(w3, batch, entry.tx_hash, receipt)
            else:
                self._diagnose_revert(w3, registry, batch, receipt)
            return False
        if count > entry.nonce:
            # The nonce is used. Ours may have been mined between the two calls: look again.
            if receipt_of(w3, entry.tx_hash) is not None:
                return False  # the next step follows it
            # It went to another transaction: an earlier fee level of ours, or not ours.
            self.finality.requeue(batch, FailureCause.REPLACED, OutboxState.REPLACED)
            return False
        stuck = time.time() - _epoch(entry.broadcast_at or entry.created_at)
        if entry.nonce == count and stuck > self.config.stuck_after:
            self._replace(w3, registry, batch, entry)
        else:
            # Above the count it waits behind a gap: bumping it could never get it mined.
            self._broadcast(w3, registry, entry)
        return True

    def _diagnose_revert(self, w3: Web3, registry: Registry, batch: Batch, receipt: Any) -> None:
        record = registry.anchor_of(batch.root)
        if record.anchored:
            self.finality.adopt_existing_anchor(w3, registry, batch, record.issuer)
            return
        cause = self._preflight(registry, batch)
        if cause is None and int(receipt.get("gasUsed", 0)) >= self.config.gas_limit:
            cause = FailureCause.GAS_LIMIT
        if cause is not None and cause.permanent:
            self.finality.fail(batch, cause)
            return
        # The nonce is spent; the batch goes out again once the cause is gone (a hold).
        self.finality.requeue(batch, cause or FailureCause.REVERTED)

    # -- submitting ----------------------------------------------------------------------------

    def _submit_due(self, w3: Web3, registry: Registry, count: int, awaiting: bool) -> None:
        """Fill every nonce gap with the oldest frozen batches, then submit one if none waits."""
        for _ in range(_MAX_FILLS):
            held = {e.nonce for e in self.store.live_outbox(self.account.address)}
            nonce = count
            while nonce in held:
                nonce += 1
            above = sorted(n for n in held if n > nonce)
            self.gaps.observe(count, nonce, above)
            if awaiting and not above:
                return
            batch = self.store.next_batch_for_submission()
            if batch is None:
                if above:
                    self._refill_from_above(w3, registry, nonce, above[0])
                return
            if not self._submit(w3, registry, batch, nonce) or not above:
                return

    def _submit(self, w3: Web3, registry: Registry, batch: Batch, nonce: int) -> bool:
        """Sign and send ``batch`` at ``nonce``; False when nothing more should go out this step
        (the batch is held, or its root is already on chain)."""
        live = [
            e for e in self.store.outbox_of_batch(batch.id) if e.state in IN_FLIGHT_OUTBOX_STATES
        ]
        if live:  # signed before a crash, not yet marked submitted: resume with the same bytes
            self.store.mark_batch_submitted(batch.id, live[-1].tx_hash)
            self._broadcast(w3, registry, live[-1])
            return True
        record = registry.anchor_of(batch.root)
        if record.anchored:  # no nonce used; it may still wait for depth: stop here this step
            self.finality.adopt_existing_anchor(w3, registry, batch, record.issuer)
            return False
        cause = self._preflight(registry, batch)
        if cause is not None and cause.permanent:
            self.finality.fail(batch, cause)
            return True
        if cause is not None:
            self.holds.hold(cause, batch)
            return False
        self.holds.preflight_passed()
        fees = initial_fees(
            self.config.fee_mode,
            latest_base_fee(w3),
            self.config.priority_fee_gwei,
            self.config.max_fee_gwei,
        )
        entry = self._sign_and_record(registry, batch, nonce, fees)
        self.store.mark_batch_submitted(batch.id, entry.tx_hash)
        self._broadcast(w3, registry, entry)
        return True

    def _refill_from_above(self, w3: Web3, registry: Registry, nonce: int, above: int) -> None:
        """No batch waits to fill the gap: re-sign the batch in flight just above it there."""
        entry = next(e for e in self.store.live_outbox(self.account.address) if e.nonce == above)
        batch = self.store.get_batch(entry.batch_id)
        if batch is None or batch.state != BatchState.SUBMITTED:
            return
        log.warning("re-signing batch %s at nonce %d to fill the gap", batch.id, nonce)
        fees = initial_fees(
            self.config.fee_mode,
            latest_base_fee(w3),
            self.config.priority_fee_gwei,
            self.config.max_fee_gwei,
        )
        moved = self._sign_and_record(registry, batch, nonce, fees, replaces=entry.id)
        self._broadcast(w3, registry, moved)

    def _preflight(self, registry: Registry, batch: Batch) -> FailureCause | None:
        """Estimate the call: a deterministic revert or a too small gas limit gives its cause."""
        try:
            gas = registry.contract.functions.anchor(batch.root, batch.leaf_count).estimate_gas(
                {"from": self.account.address}
            )
        except (ContractCustomError, ContractLogicError) as e:
            decoded = decode_revert(e.data) if isinstance(e.data, str | bytes) else None
            name = decoded[0] if decoded else "unknown"
            if name == "RegistryRootAlreadyAnchored":
                return None  # raced with ourselves; the follower will adopt it
            log.error("anchor would revert", extra={"batch": batch.id, "error": name})
            return _REVERTS.get(name, FailureCause.REVERTED)
        if gas > self.config.gas_limit:
            return FailureCause.GAS_LIMIT
        return None

    def _sign_and_record(
        self,
        registry: Registry,
        batch: Batch,
        nonce: int,
        fees: Fees,
        replaces: int | None = None,
    ) -> OutboxEntry:
        tx: dict[str, Any] = {
            "to": self.registry_address,
            "data": registry.contract.encode_abi("anchor", args=[batch.root, batch.leaf_count]),
            "nonce": nonce,
            "gas": self.config.gas_limit,
            "chainId": self.config.chain_id,
            "value": 0,
            **fees.tx_fields(),
        }
        signed = self.account.sign_transaction(tx)
        entry = self.store.record_signed_tx(
            batch_id=batch.id,
            nonce=nonce,
            signer=self.account.address,
            raw_tx=bytes(signed.raw_transaction),
            tx_hash=bytes(signed.hash),
            max_fee_per_gas=None if fees.mode == "zero" else fees.max_fee_per_gas,
            max_priority_fee_per_gas=None if fees.mode == "zero" else fees.max_priority_fee_per_gas,
            gas_price=0 if fees.mode == "zero" else None,
            replaces=replaces,
        )
        log.info(
            "signed", extra={"batch": batch.id, "nonce": nonce, "tx": "0x" + entry.tx_hash.hex()}
        )
        return entry

    def _broadcast(
        self, w3: Web3, registry: Registry, entry: OutboxEntry, *, reprice: bool = True
    ) -> None:
        """Send the stored bytes. A refusal for the fee re-prices the transaction once; a
        refusal for funds holds; neither is taken for an unavailable node."""
        try:
            w3.eth.send_raw_transaction(entry.raw_tx)
        except Web3RPCError as e:
            message = str(e)
            lowered = message.lower()
            if any(k in lowered for k in _ALREADY_KNOWN):
                pass  # the node has it
            elif is_fee_refusal(message):
                self.metrics.failures.labels(cause=FailureCause.FEE_TOO_LOW).inc()
                log.warning("the node refuses the fee of nonce %d: %s", entry.nonce, message)
                if reprice:
                    batch = self.store.get_batch(entry.batch_id)
                    if batch is not None:
                        self._replace(w3, registry, batch, entry, reprice=False)
                return
            elif is_funds_refusal(message):
                self.metrics.failures.labels(cause=FailureCause.INSUFFICIENT_FUNDS).inc()
                self.holds.hold(FailureCause.INSUFFICIENT_FUNDS, None)
                return
            elif "nonce too low" in lowered or "replacement" in lowered:
                # Another transaction holds the nonce; the next step looks the hash up.
                log.info("broadcast refused: %s", e, extra={"tx": "0x" + entry.tx_hash.hex()})
                return
            else:
                self.metrics.failures.labels(cause=FailureCause.BROADCAST).inc()
                raise ChainError(f"broadcast failed: {e}") from e
        self.holds.broadcast_accepted()
        if entry.state == OutboxState.SIGNED:
            self.store.mark_broadcast(entry.id)
            self.metrics.submissions.inc()

    def _replace(
        self,
        w3: Web3,
        registry: Registry,
        batch: Batch,
        stuck: OutboxEntry,
        *,
        reprice: bool = True,
    ) -> None:
        """Re-sign ``stuck`` at its nonce, priced from the chain's current fees and at least
        12.5% above it; on a free-gas chain there is nothing to raise: rebroadcast it."""
        old = stored_fees(stuck.gas_price, stuck.max_fee_per_gas, stuck.max_priority_fee_per_gas)
        fees = replacement_fees(
            old,
            self.config.fee_mode,
            latest_base_fee(w3),
            self.config.priority_fee_gwei,
            self.config.max_fee_gwei,
        )
        if fees == old:
            if reprice:
                self._broadcast(w3, registry, stuck, reprice=False)
            else:
                self.holds.hold(FailureCause.FEE_TOO_LOW, None)
            return
        entry = self._sign_and_record(registry, batch, stuck.nonce, fees, replaces=stuck.id)
        log.warning(
            "replacing transaction at nonce %d with fees from the chain's",
            stuck.nonce,
            extra={"batch": batch.id, "nonce": stuck.nonce, "max_fee": fees.max_fee_per_gas},
        )
        self._broadcast(w3, registry, entry, reprice=reprice)


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
