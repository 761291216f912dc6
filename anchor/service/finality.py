"""Finality: when a mined batch counts as anchored, and when a reorg takes that back.

A batch is anchored once its receipt is ``confirmations`` blocks deep on a block that is still
canonical. Recently anchored batches are re-checked at every new head: a block hash that changed
(a reorg), or a block above the node's head whose transaction the node does not know (a rollback,
a node restored from a snapshot), sends the batch back to submission, whatever the depth it had
reached. Its root and proofs are untouched: the same root goes out again. A root the registry
already holds for the batch's body is adopted (its `RootAnchored` event gives the transaction),
never anchored twice. Roots are anchored per body, so another body's root never stands in the
way of ours.
"""

from __future__ import annotations

import logging
from typing import Any

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import BlockNotFound, TransactionNotFound, Web3RPCError

from anchor.chain.registry import Registry
from anchor.service.metrics import Metrics
from anchor.store import Batch, Store
from anchor.types import FailureCause, OutboxState

log = logging.getLogger(__name__)

#: Anchored batches whose block is within this many blocks of the head are re-checked for reorgs
#: (and every one above the head, after a rollback).
REORG_WINDOW = 256


class Finality:
    """Decides the end of a batch's journey: anchored, back to submission, or failed."""

    def __init__(
        self, store: Store, metrics: Metrics, confirmations: int, relayers: tuple[str, ...] = ()
    ) -> None:
        """``relayers``: the accounts whose relayed calls may carry the service's anchors."""
        self.relayers = relayers
        self.store = store
        self.metrics = metrics
        self.confirmations = confirmations
        self.anchored_count = 0
        """Batches anchored by this process: the progress the stall watch looks for."""
        self._last_head: bytes | None = None

    def finalise(self, w3: Web3, batch: Batch, tx_hash: bytes, receipt: Any) -> None:
        """Mark ``batch`` anchored when ``receipt`` is deep enough on a canonical block."""
        self.finalise_all(w3, [batch], tx_hash, receipt)

    def finalise_all(self, w3: Web3, batches: list[Batch], tx_hash: bytes, receipt: Any) -> None:
        """`finalise` for every batch one transaction carries: the head and the block's
        canonical hash are read once for all of them, and they are marked anchored in one
        store transaction (`Store.mark_batches_anchored`: one commit, one ``anchored_at``)."""
        head = w3.eth.block_number
        block_number = int(receipt["blockNumber"])
        if head - block_number < self.confirmations:
            return
        canonical = w3.eth.get_block(block_number)["hash"]
        if bytes(canonical) != bytes(receipt["blockHash"]):
            return  # a reorg is under way; the receipt will move or vanish
        ids = [b.id for b in batches]
        self.store.mark_batches_anchored(ids, tx_hash, block_number, bytes(canonical))
        for batch in batches:
            self.anchored_count += 1
            self.metrics.anchored_batches.inc()
            log.info(
                "batch anchored",
                extra={"batch": batch.id, "root": "0x" + batch.root.hex(), "block": block_number},
            )
        self.metrics.last_anchored_block.set(block_number)

    def adopt_existing_anchor(
        self, w3: Web3, registry: Registry, batch: Batch, body_id: int
    ) -> None:
        """The body's root is on chain already (sent before a crash, or by another of the body's
        keys): adopt the transaction that anchored it, found by its event (``RootAnchored`` of a
        direct anchor, or the ``RootsAnchored`` of a relayed call that packs it)."""
        tx_hash = _anchoring_tx(registry, body_id, batch.root, self.relayers)
        if tx_hash is None:
            return  # the node's log index lags; try again next step
        receipt = w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        self.finalise(w3, batch, tx_hash, receipt)

    def recheck_anchored(self, w3: Web3, head: Any) -> None:
        """Send back every recently anchored batch whose block the node no longer has.

        Runs once per new chain head (a reorg or a rollback always changes the head), and reads
        the blocks of the window in one JSON-RPC batch request.
        """
        head_hash = bytes(head["hash"])
        if head_hash == self._last_head:
            return
        head_number = int(head["number"])
        window = self.store.anchored_batches_since(max(0, head_number - REORG_WINDOW))
        batches = [b for b in window if b.block_number is not None and b.block_hash is not None]
        below = {b.block_number for b in batches if b.block_number is not None}
        known = _canonical_hashes(w3, {n for n in below if n <= head_number})
        for batch in batches:
            assert batch.block_number is not None and batch.tx_hash is not None
            if batch.block_number > head_number:
                # Above the head: rolled back, unless the node still knows the transaction.
                if receipt_of(w3, batch.tx_hash) is not None:
                    continue
            elif known.get(batch.block_number) == batch.block_hash:
                continue
            log.warning(
                "reorg: batch %s's block %s is no longer canonical (head %s)",
                batch.id,
                batch.block_number,
                head_number,
            )
            self.requeue(batch, FailureCause.REORG)
        self._last_head = head_hash

    def requeue(
        self, batch: Batch, cause: FailureCause, outbox_state: OutboxState = OutboxState.DROPPED
    ) -> None:
        """Send ``batch`` back to submission: the same root goes out again."""
        self.store.return_batch_to_submission(batch.id, cause, outbox_state=outbox_state)
        self.metrics.requeued_batches.labels(cause=cause).inc()
        log.warning("batch %s sent back to submission: %s", batch.id, cause, extra={"cause": cause})

    def fail(self, batch: Batch, cause: FailureCause) -> None:
        """End ``batch`` failed; only for a cause that cannot go away."""
        if not cause.permanent:
            raise ValueError(f"{cause} is not a permanent cause; hold the batch instead")
        self.store.mark_batch_failed(batch.id, cause)
        self.metrics.failures.labels(cause=cause).inc()
        log.error(
            "batch %s failed permanently: %s",
            batch.id,
            cause,
            extra={"cause": cause, "issuer": batch.issuer_id},
        )


def _anchoring_tx(
    registry: Registry, body_id: int, root: bytes, relayers: tuple[str, ...]
) -> bytes | None:
    """The hash of the transaction that anchored ``root`` for ``body_id``; None when its event
    is not found (yet)."""
    direct = registry.contract.events.RootAnchored().get_logs(
        from_block=0, argument_filters={"bodyId": body_id, "root": root}
    )
    if direct:
        return bytes(direct[-1]["transactionHash"])
    if not relayers:
        return None
    relayed = registry.contract.events.RootsAnchored().get_logs(
        from_block=0, argument_filters={"relayer": list(relayers)}
    )
    wanted = body_id.to_bytes(4, "big") + bytes(root)
    for entry in reversed(relayed):
        packed = bytes(entry["args"]["anchors"])
        if any(packed[i : i + 36] == wanted for i in range(0, len(packed) - 35, 36)):
            return bytes(entry["transactionHash"])
    return None


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


def receipt_of(w3: Web3, tx_hash: bytes) -> Any:
    """The receipt of a transaction, or None while the node has none (pending, dropped)."""
    try:
        return w3.eth.get_transaction_receipt(HexBytes(tx_hash))
    except TransactionNotFound:
        return None
