"""Submission and finality: one transaction per batch, followed until it is final.

The submitter keeps at most one unmined anchor transaction per signing key, which makes the
nonce of a new transaction simply the key's mined transaction count; while one waits to be
included, digests keep accumulating into the next batch (see `anchor.service.worker`). Every step:

1. follows the batch in flight: a receipt `confirmations` blocks deep on a canonical block makes
   the batch anchored; a revert is diagnosed (root already anchored by us: anchored; missing role
   or paused contract: permanent failure); no receipt and the nonce used by another transaction
   sends the batch back to submission; no receipt otherwise rebroadcasts the same signed bytes,
   or replaces a stuck transaction with fees raised by at least 10%;
2. re-checks recently anchored batches: a block hash that is no longer canonical (a reorg) sends
   the batch back to submission;
3. with nothing in flight, signs the next frozen batch, persists the raw transaction and its nonce
   in the outbox (before broadcast, so a restart rebroadcasts the same bytes), then broadcasts.

A root found already anchored by this issuer (a batch returned after a reorg whose transaction was
mined again, or a crash after broadcast) is recognised by `anchorOf` and its `RootAnchored` event,
and is never anchored twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    BlockNotFound,
    ContractCustomError,
    ContractLogicError,
    TransactionNotFound,
    Web3RPCError,
)

from anchor.chain.client import TRANSPORT_ERRORS, FailoverWeb3
from anchor.chain.fees import GWEI, Fees, initial_fees
from anchor.chain.registry import Registry, decode_revert
from anchor.errors import ChainError
from anchor.service.metrics import Metrics
from anchor.settings import Settings
from anchor.store import Batch, OutboxEntry, Store
from anchor.types import BatchState, OutboxState

log = logging.getLogger(__name__)

#: Anchored batches younger than this many blocks are re-checked for reorgs.
REORG_WINDOW = 256

_RECOVERABLE: tuple[type[BaseException], ...] = (ChainError, *TRANSPORT_ERRORS)

_IN_FLIGHT = (OutboxState.SIGNED, OutboxState.BROADCAST)

#: How nodes say they already hold a transaction (geth, Besu, anvil).
_ALREADY_KNOWN = ("already known", "known transaction", "already imported")

_PERMANENT = {
    "AccessControlUnauthorizedAccount": "missing_role",
    "EnforcedPause": "paused",
    "RegistryZeroRoot": "invalid_batch",
    "RegistryZeroLeafCount": "invalid_batch",
}


@dataclass(frozen=True)
class SubmitterConfig:
    """What the submitter needs from the settings."""

    chain_id: int
    confirmations: int
    fee_mode: str
    priority_fee_gwei: float
    max_fee_gwei: float
    gas_limit: int
    stuck_after: float

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
        )


class Submitter:
    """Anchors frozen batches with one signing key and follows them to finality."""

    def __init__(
        self,
        chain: FailoverWeb3,
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
        self._last_head: bytes | None = None

    # -- the loop body -------------------------------------------------------------------------

    def step(self) -> None:
        """Do one round of following, re-checking and submitting; transport errors fail over."""
        try:
            w3 = self.chain.get()
            registry = Registry(w3, self.registry_address)
            awaiting_inclusion = False
            for batch in self.store.batches_in_state(BatchState.SUBMITTED):
                awaiting_inclusion |= self._follow(w3, registry, batch)
            self._recheck_anchored(w3)
            if not awaiting_inclusion:
                waiting = self.store.next_batch_for_submission()
                if waiting is not None:
                    self._submit(w3, registry, waiting)
        except _RECOVERABLE as e:
            log.warning("chain unavailable, failing over: %s", e)
            self.metrics.failures.labels(cause="rpc").inc()
            self.chain.invalidate()

    # -- following a batch in flight -----------------------------------------------------------

    def _follow(self, w3: Web3, registry: Registry, batch: Batch) -> bool:
        """Move a submitted batch on; True while its transaction waits to be included."""
        live = [e for e in self.store.outbox_of_batch(batch.id) if e.state in _IN_FLIGHT]
        if not live:
            # Mined and waiting for depth, or dropped, or lost in a reorg: the registry says.
            record = registry.anchor_of(batch.root)
            if record.anchored:
                self._adopt_existing_anchor(w3, registry, batch, record.issuer)
            else:
                self._requeue(batch, "dropped", OutboxState.DROPPED)
            return False
        entry = live[-1]  # a fee bump replaces its predecessor: one live row per batch
        receipt = _receipt(w3, entry.tx_hash)
        if receipt is not None:
            if receipt["status"] == 1:
                self._finalise(w3, batch, entry.tx_hash, receipt)
            else:
                self._diagnose_revert(w3, registry, batch)
            return False
        if w3.eth.get_transaction_count(self.account.address, "latest") > entry.nonce:
            # The nonce is used. Ours may have been mined between the two calls: look again.
            if _receipt(w3, entry.tx_hash) is not None:
                return False  # the next step follows it
            # It went to another transaction: an earlier fee level of ours, or not ours.
            self._requeue(batch, "replaced", OutboxState.REPLACED)
            return False
        if time.time() - _epoch(entry.broadcast_at or entry.created_at) > self.config.stuck_after:
            self._replace(w3, batch, entry)
        else:
            self._broadcast(w3, entry)
        return True

    def _finalise(self, w3: Web3, batch: Batch, tx_hash: bytes, receipt: Any) -> None:
        head = w3.eth.block_number
        block_number = int(receipt["blockNumber"])
        if head - block_number < self.config.confirmations:
            return
        canonical = w3.eth.get_block(block_number)["hash"]
        if bytes(canonical) != bytes(receipt["blockHash"]):
            return  # a reorg is under way; the receipt will move or vanish
        self.store.mark_batch_anchored(batch.id, tx_hash, block_number, bytes(canonical))
        self.metrics.anchored_batches.inc()
        self.metrics.last_anchored_block.set(block_number)
        log.info(
            "batch anchored",
            extra={"batch": batch.id, "root": "0x" + batch.root.hex(), "block": block_number},
        )

    def _diagnose_revert(self, w3: Web3, registry: Registry, batch: Batch) -> None:
        record = registry.anchor_of(batch.root)
        if record.anchored:
            self._adopt_existing_anchor(w3, registry, batch, record.issuer)
            return
        cause = self._preflight(registry, batch) or "reverted"
        self._fail(batch, cause)

    # -- re-checking anchored batches ----------------------------------------------------------

    def _recheck_anchored(self, w3: Web3) -> None:
        """Send back every recently anchored batch whose block is no longer canonical.

        Runs once per new chain head (a reorg or a rollback always changes the head), and reads
        the blocks of the window in one JSON-RPC batch request.
        """
        head = w3.eth.get_block("latest")
        head_hash = bytes(head["hash"])
        if head_hash == self._last_head:
            return
        window = self.store.anchored_batches_since(max(0, int(head["number"]) - REORG_WINDOW))
        batches = [b for b in window if b.block_number is not None and b.block_hash is not None]
        numbers = {b.block_number for b in batches if b.block_number is not None}
        known = _canonical_hashes(w3, {n for n in numbers if n <= int(head["number"])})
        for batch in batches:
            if batch.block_number is None or known.get(batch.block_number) != batch.block_hash:
                log.warning("reorg: batch %s's block is no longer canonical", batch.id)
                self._requeue(batch, "reorg")
        self._last_head = head_hash

    # -- submitting a new batch ----------------------------------------------------------------

    def _submit(self, w3: Web3, registry: Registry, batch: Batch) -> None:
        live = [e for e in self.store.outbox_of_batch(batch.id) if e.state in _IN_FLIGHT]
        if live:  # signed before a crash, not yet marked submitted: resume with the same bytes
            self.store.mark_batch_submitted(batch.id, live[-1].tx_hash)
            self._broadcast(w3, live[-1])
            return
        record = registry.anchor_of(batch.root)
        if record.anchored:
            self._adopt_existing_anchor(w3, registry, batch, record.issuer)
            return
        cause = self._preflight(registry, batch)
        if cause is not None:
            self._fail(batch, cause)
            return
        nonce = w3.eth.get_transaction_count(self.account.address, "latest")
        base_fee = int(w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
        fees = initial_fees(
            "zero" if self.config.fee_mode == "zero" else "eip1559",
            base_fee,
            self.config.priority_fee_gwei,
            self.config.max_fee_gwei,
        )
        entry = self._sign_and_record(registry, batch, nonce, fees)
        self.store.mark_batch_submitted(batch.id, entry.tx_hash)
        self._broadcast(w3, entry)

    def _preflight(self, registry: Registry, batch: Batch) -> str | None:
        """Replay the call: a deterministic revert gives its cause; success gives None."""
        try:
            registry.contract.functions.anchor(batch.root, batch.leaf_count).call(
                {"from": self.account.address}
            )
        except (ContractCustomError, ContractLogicError) as e:
            decoded = decode_revert(e.data) if isinstance(e.data, str | bytes) else None
            name = decoded[0] if decoded else "unknown"
            if name == "RegistryRootAlreadyAnchored":
                return None  # raced with ourselves; the follower will adopt it
            log.error("anchor would revert", extra={"batch": batch.id, "error": name})
            return _PERMANENT.get(name, "reverted")
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
            max_fee_per_gas=fees.max_fee_per_gas,
            max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
            gas_price=0 if fees.mode == "zero" else None,
            replaces=replaces,
        )
        log.info(
            "signed", extra={"batch": batch.id, "nonce": nonce, "tx": "0x" + entry.tx_hash.hex()}
        )
        return entry

    def _broadcast(self, w3: Web3, entry: OutboxEntry) -> None:
        try:
            w3.eth.send_raw_transaction(entry.raw_tx)
        except Web3RPCError as e:
            message = str(e).lower()
            if any(k in message for k in _ALREADY_KNOWN):
                pass  # the node has it
            elif "nonce too low" in message or "replacement" in message:
                # Another transaction holds the nonce; the next step looks the hash up.
                log.info("broadcast refused: %s", e, extra={"tx": "0x" + entry.tx_hash.hex()})
                return
            else:
                self.metrics.failures.labels(cause="broadcast").inc()
                raise ChainError(f"broadcast failed: {e}") from e
        if entry.state == OutboxState.SIGNED:
            self.store.mark_broadcast(entry.id)
            self.metrics.submissions.inc()

    def _replace(self, w3: Web3, batch: Batch, stuck: OutboxEntry) -> None:
        old = Fees(
            "zero" if self.config.fee_mode == "zero" else "eip1559",
            stuck.max_fee_per_gas or 0,
            stuck.max_priority_fee_per_gas or 0,
        )
        if old.mode == "zero":
            self._broadcast(w3, stuck)  # nothing to raise on a free-gas network
            return
        fees = old.bumped(int(self.config.max_fee_gwei * GWEI))
        registry = Registry(w3, self.registry_address)
        entry = self._sign_and_record(registry, batch, stuck.nonce, fees, replaces=stuck.id)
        log.warning(
            "replacing a stuck transaction", extra={"batch": batch.id, "nonce": stuck.nonce}
        )
        self._broadcast(w3, entry)

    # -- outcomes ------------------------------------------------------------------------------

    def _adopt_existing_anchor(
        self, w3: Web3, registry: Registry, batch: Batch, issuer: str
    ) -> None:
        if issuer != self.account.address:
            self._fail(batch, "anchored_by_another_issuer")
            return
        event = registry.contract.events.RootAnchored()
        logs = event.get_logs(from_block=0, argument_filters={"root": batch.root})
        if not logs:
            return  # the node's log index lags; try again next step
        found = logs[-1]
        receipt = w3.eth.get_transaction_receipt(found["transactionHash"])
        self._finalise(w3, batch, bytes(found["transactionHash"]), receipt)

    def _requeue(
        self, batch: Batch, cause: str, outbox_state: OutboxState = OutboxState.DROPPED
    ) -> None:
        self.store.return_batch_to_submission(batch.id, cause, outbox_state=outbox_state)
        self.metrics.requeued_batches.labels(cause=cause).inc()
        log.warning("batch %s sent back to submission: %s", batch.id, cause, extra={"cause": cause})

    def _fail(self, batch: Batch, cause: str) -> None:
        self.store.mark_batch_failed(batch.id, cause)
        self.metrics.failures.labels(cause=cause).inc()
        log.error("batch %s failed permanently: %s", batch.id, cause, extra={"cause": cause})


def _canonical_hashes(w3: Web3, numbers: set[int]) -> dict[int, bytes]:
    """The canonical hash of each block number, read in one batch request when possible."""
    ordered = sorted(numbers)
    if not ordered:
        return {}
    try:
        with w3.batch_requests() as batch:
            for number in ordered:
                batch.add(w3.eth.get_block(number))
            blocks: list[Any] = list(batch.execute())
        return {n: bytes(block["hash"]) for n, block in zip(ordered, blocks, strict=True)}
    except (BlockNotFound, TypeError, ValueError, Web3RPCError):
        # A node without batch support, or a block gone under our feet: ask one by one.
        found: dict[int, bytes] = {}
        for number in ordered:
            try:
                found[number] = bytes(w3.eth.get_block(number)["hash"])
            except BlockNotFound:
                continue
        return found


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _receipt(w3: Web3, tx_hash: bytes) -> Any:
    try:
        return w3.eth.get_transaction_receipt(HexBytes(tx_hash))
    except TransactionNotFound:
        return None
