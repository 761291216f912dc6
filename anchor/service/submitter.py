"""Submission for many bodies: signed anchors relayed in one transaction, nonces contiguous.

Each body's batches are anchored under that body: in relay mode (``ANCHOR_SUBMIT_MODE=relay``,
the default) every body's anchoring key signs its batch root (EIP-712) and ONE transaction of the
relayer (the worker's own key, which holds no role) carries the signed anchors of every body; in
direct mode each body's anchoring key sends its own ``anchor``. Either way a *lane* is one signer
with its own nonce sequence (`anchor.service.sending`), and every step of the `Submitter`:

1. looks for bodies onboarded since the last look (`anchor.service.bodies`);
2. re-checks recently anchored batches (`anchor.service.finality`): a reorg or a rollback sends
   them back to submission, whatever depth they had reached;
3. follows each transaction in flight (with every batch it carries) against its signer's mined
   transaction count ``count``: a receipt deep enough makes its batches anchored; a mined revert
   sends them back (the next preflight says which body waits, and why); a nonce below ``count``
   with no receipt of ours went to another transaction (its batches go out again); the
   transaction at ``count`` is rebroadcast, or replaced once it is stuck; one above ``count``
   waits behind a gap and is only rebroadcast, never replaced;
4. submits, lane by lane: the nonce of a new transaction is the lowest one at or above ``count``
   that no transaction in flight holds. When transactions in flight sit above it (a *nonce
   gap*), the next transaction is signed at that nonce at once (with nothing waiting, the one
   just above moves down to it), and the gap is reported (`anchor.service.progress`); otherwise a
   new transaction goes out once in each block's send window, just before the block is due
   (`anchor.service.pacing`), at the next nonce, while at most ``max_in_flight`` of the lane
   wait for inclusion: everything frozen by then makes that block, and one transaction a block
   carries it. With no block predicted (automine, irregular blocks) one goes out when none of
   the lane waits: one per block, while digests accumulate into the next batches. What goes
   in it is chosen and checked body by body (`anchor.service.payloads`): one body's refused
   anchor holds that body only. Each anchor is checked alone against the chain's state
   without the transactions still waiting, which is sound: they carry other batches (other
   roots), and an anchor depends on no other (no per-body counter or order in the registry).
   A transaction waiting above a lower one of the lane is never replaced (it waits behind
   it); the lowest one is, once stuck, and the ones above follow it into the block.

The signed raw transaction and its nonce are in the outbox before broadcast, so a restart (or a
SIGKILL) rebroadcasts the same bytes. A cause an operator can fix holds (`anchor.service.holds`);
only a permanent cause (`anchor.types.FailureCause.permanent`) ends a batch ``failed``.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import BlockNotFound, Web3RPCError

from anchor.chain.client import TRANSPORT_ERRORS, ChainClient
from anchor.chain.registry import Registry
from anchor.chain.relay import call_of
from anchor.chain.signer import Keyring, KeystoreSigner, Signer
from anchor.errors import ChainError, ConfigError
from anchor.service.bodies import Bodies
from anchor.service.finality import Finality, receipt_of
from anchor.service.holds import Holds
from anchor.service.metrics import Metrics
from anchor.service.pacing import HEADS_KEPT, HeadClock, Window
from anchor.service.payloads import Payload, Resume, Selector
from anchor.service.progress import GapWatch, StallWatch
from anchor.service.sending import Lane, Sender, SubmitterConfig
from anchor.store import Batch, Issuer, OutboxEntry, Store
from anchor.types import IN_FLIGHT_OUTBOX_STATES, BatchState, FailureCause, OutboxState

__all__ = ["Submitter", "SubmitterConfig"]

log = logging.getLogger(__name__)

_RECOVERABLE: tuple[type[BaseException], ...] = (ChainError, *TRANSPORT_ERRORS)

#: At most this many nonces are filled in one step, per lane.
_MAX_FILLS = 32

#: Seconds between two reads of the relayer's balance while nothing is frozen or in flight.
IDLE_BALANCE_EVERY = 30.0


class Submitter:
    """Anchors the frozen batches of every onboarded body and follows them to finality."""

    def __init__(
        self,
        chain: ChainClient,
        relayer: Signer | LocalAccount,
        registry_address: str,
        store: Store,
        config: SubmitterConfig,
        metrics: Metrics | None = None,
        keyring: Keyring | None = None,
    ) -> None:
        """``relayer`` signs the relayed transactions; ``keyring`` holds the bodies' keys."""
        self.chain = chain
        self.relayer: Signer = (
            KeystoreSigner(relayer) if isinstance(relayer, LocalAccount) else relayer
        )
        self.registry_address = Web3.to_checksum_address(registry_address)
        self.store = store
        self.config = config
        self.metrics = metrics or Metrics()
        self.finality = Finality(
            store, self.metrics, config.confirmations, (str(self.relayer.address),)
        )
        self.stall = StallWatch(self.metrics, config.stall_blocks)
        self.holds = Holds(store, self.metrics)
        self.bodies = Bodies(store, self.metrics, keyring or Keyring(Path("."), ""))
        self.sender = Sender(store, self.metrics, config, self.registry_address)
        self.selector = Selector(
            store, self.metrics, self.bodies, self.finality, self.holds,
            chain_id=config.chain_id, gas_limit=config.gas_limit,
            relay_max_anchors=config.relay_max_anchors, relay_gas_cap=config.relay_gas_cap,
        )  # fmt: skip
        address = str(self.relayer.address)
        self.relay_lane = Lane(self.relayer, self.holds, GapWatch(self.metrics, address))
        self._lanes: dict[str, Lane] = {address.lower(): self.relay_lane}
        self.pacing = HeadClock(config.send_lead)
        self._registry: Registry | None = None
        self._balance_read = float("-inf")
        self._paced = False
        self._step_window: Window | None = None
        self.sent = 0  # new transactions sent (or resumed) so far, for the worker's timing
        self.quiet = False
        """The last step found nothing to send or follow: no frozen or submitted batch, no gap."""

    # -- the loop body -------------------------------------------------------------------------

    def step(self, window: Window | None = None, *, paced: bool = False) -> None:
        """Do one round of onboarding, re-checking, following and submitting; transport errors
        fail over to the next node.

        ``paced`` (the worker's loop): the batches due were closed for ``window``, the send
        window open when the step began (None: none was), and only that one is sent in. A
        window that opens during the step is left to the next step, which closes early for it
        first: sending in it now would carry only what was due before it opened, and take the
        window (one transaction a block) from the batches the early close would have added."""
        self._paced, self._step_window = paced, window
        try:
            w3 = self.chain.get()
            registry = self._registry_of(w3)
            head = w3.eth.get_block("latest")
            if not self.pacing.seeded:
                self.pacing.seed(_blocks_before(w3, int(head["number"])))
            self.pacing.observe(int(head["number"]), int(head["timestamp"]))
            self.bodies.discover(registry)
            self.bodies.refresh()
            self.finality.recheck_anchored(w3, head)
            frozen = self.store.batches_in_state(BatchState.FROZEN)
            submitted = self.store.batches_in_state(BatchState.SUBMITTED)
            if frozen or submitted or any(lane.gaps.open for lane in self._lanes.values()):
                counts: dict[str, int] = {}
                awaiting: dict[str, int] = {}
                self._follow_all(w3, registry, counts, awaiting)
                for lane in self._active_lanes():
                    self._submit_due(w3, registry, lane, int(head["timestamp"]), counts, awaiting)
                self.metrics.nonce_gap.set(sum(lane.gaps.missing for lane in self._lanes.values()))
                self._balance_read = float("-inf")
                frozen = self.store.batches_in_state(BatchState.FROZEN)
                submitted = self.store.batches_in_state(BatchState.SUBMITTED)
            # Idle (nothing frozen, nothing in flight, no gap): no nonce or outbox read; the
            # re-check of anchored batches above still runs at every new head.
            self._read_balance(w3)
            self._observe_stall(int(head["number"]), frozen + submitted)
            gaps = any(lane.gaps.open for lane in self._lanes.values())
            self.quiet = not (frozen or submitted or gaps)
        except _RECOVERABLE as e:
            self.quiet = False
            log.warning("chain unavailable, failing over: %s", e)
            self.metrics.failures.labels(cause=FailureCause.RPC).inc()
            self.chain.invalidate()

    def send_window(self) -> Window | None:
        """The next block's send window when it is open and a lane may still send in it (not
        sent in it yet, room under ``max_in_flight``): the worker then closes early the batches
        that would come due before the block after it."""
        window = self.pacing.open_window()
        if window is None:
            return None
        for lane in self._lanes.values():
            if (lane.issuer is None) != (self.config.submit_mode == "relay"):
                continue
            if lane.window != window.number and lane.waiting < self.config.max_in_flight:
                return window
        return None

    def _registry_of(self, w3: Web3) -> Registry:
        """The registry bound to ``w3``, made once per client (a contract object is costly)."""
        if self._registry is None or self._registry.w3 is not w3:
            self._registry = Registry(w3, self.registry_address)
        return self._registry

    def _read_balance(self, w3: Web3) -> None:
        """The relayer's balance gauge: at every busy step, every `IDLE_BALANCE_EVERY` s idle."""
        if self.config.fee_mode == "zero":
            return
        now = time.monotonic()
        if now - self._balance_read >= IDLE_BALANCE_EVERY:
            self.metrics.relayer_balance.set(w3.eth.get_balance(self.relayer.address))
            self._balance_read = now

    def _observe_stall(self, head: int, waiting: list[Batch]) -> None:
        held = [f"body {i}: {self.bodies.holds(i).cause}" for i in self.bodies.held()]
        if self.holds.cause:
            held.insert(0, str(self.holds.cause))
        gap = any(lane.gaps.open for lane in self._lanes.values())
        why = f"held: {', '.join(held)}" if held else "filling a nonce gap" if gap else "in flight"
        self.stall.observe(head, self.finality.anchored_count, waiting, why)

    # -- lanes ---------------------------------------------------------------------------------

    def _active_lanes(self) -> list[Lane]:
        """The lanes that submit this step: the relayer's, or each onboarded body's key."""
        if self.config.submit_mode == "relay":
            return [self.relay_lane]
        lanes = []
        for issuer in self.bodies.onboarded():
            lane = self._body_lane(issuer)
            if lane is not None:
                lanes.append(lane)
        return lanes

    def _body_lane(self, issuer: Issuer) -> Lane | None:
        try:
            signer = self.bodies.signer(issuer)
        except ConfigError as e:
            log.error("issuing body %d: %s", issuer.id, e, extra={"issuer": issuer.id})
            self.bodies.holds(issuer.id).hold(FailureCause.KEYSTORE, None)
            return None
        if signer is None:  # its keystore is being decrypted: the next steps take it
            return None
        key = str(signer.address).lower()
        if key not in self._lanes:
            gaps = GapWatch(self.metrics, str(signer.address))
            self._lanes[key] = Lane(signer, self.bodies.holds(issuer.id), gaps, issuer)
        return self._lanes[key]

    def _lane_of(self, signer: str) -> Lane | None:
        """The lane of an outbox row's signer; None for a key this process cannot sign with."""
        found = self._lanes.get(signer.lower())
        if found is None:
            for issuer in self.bodies.onboarded():
                if any(k.address.lower() == signer.lower() for k in issuer.keys):
                    lane = self._body_lane(issuer)
                    if lane is not None and lane.address.lower() == signer.lower():
                        return lane
        return found

    @staticmethod
    def _count(w3: Web3, counts: dict[str, int], signer: str) -> int:
        if signer not in counts:
            address = Web3.to_checksum_address(signer)
            counts[signer] = int(w3.eth.get_transaction_count(address, "latest"))
        return counts[signer]

    # -- following transactions in flight ------------------------------------------------------

    def _follow_all(
        self, w3: Web3, registry: Registry, counts: dict[str, int], awaiting: dict[str, int]
    ) -> None:
        groups: dict[int, tuple[OutboxEntry, list[Batch]]] = {}
        submitted = self.store.batches_in_state(BatchState.SUBMITTED)
        outbox = self.store.outbox_of_batches([b.id for b in submitted])
        for batch in submitted:
            live = [e for e in outbox[batch.id] if e.state in IN_FLIGHT_OUTBOX_STATES]
            if live:
                entry = live[-1]  # a fee bump replaces its predecessor: one live row per batch
                groups.setdefault(entry.id, (entry, []))[1].append(batch)
                continue
            # Mined and waiting for depth, or dropped, or lost in a reorg: the registry says.
            issuer = self.bodies.of(batch)
            if issuer is None or issuer.chain_body_id is None:
                continue
            if registry.anchor_of(issuer.chain_body_id, batch.root).anchored:
                self.finality.adopt_existing_anchor(w3, registry, batch, issuer.chain_body_id)
            else:
                self.finality.requeue(batch, FailureCause.DROPPED)
        for entry, batches in groups.values():
            if self._follow(w3, entry, batches, counts):
                awaiting[entry.signer] = awaiting.get(entry.signer, 0) + 1
        for lane in self._lanes.values():
            lane.waiting = awaiting.get(lane.address, 0)

    def _follow(
        self, w3: Web3, entry: OutboxEntry, batches: list[Batch], counts: dict[str, int]
    ) -> bool:
        """Move a transaction in flight on; True while it waits to be included."""
        receipt = receipt_of(w3, entry.tx_hash)
        if receipt is not None:
            if receipt["status"] == 1:
                self.finality.finalise_all(w3, batches, entry.tx_hash, receipt)
            else:
                self._reverted(entry, batches, receipt)
            return False
        count = self._count(w3, counts, entry.signer)
        if count > entry.nonce:
            # The nonce is used. Ours may have been mined between the two calls: look again.
            if receipt_of(w3, entry.tx_hash) is not None:
                return False  # the next step follows it
            # It went to another transaction: an earlier fee level of ours, or not ours.
            for batch in batches:
                self.finality.requeue(batch, FailureCause.REPLACED, OutboxState.REPLACED)
            return False
        lane = self._lane_of(entry.signer)
        stuck = time.time() - _epoch(entry.broadcast_at or entry.created_at)
        if lane is not None and entry.nonce == count and stuck > self.config.stuck_after:
            self.sender.replace(w3, lane, entry)
        else:
            # Above the count it waits behind a gap: bumping it could never get it mined.
            self._broadcast(w3, lane or self.relay_lane, entry)
        return True

    def _reverted(self, entry: OutboxEntry, batches: list[Batch], receipt: Any) -> None:
        """A mined revert spent the nonce: every batch goes out again, and the next preflight
        says, body by body, which one waits and why."""
        _, gas = call_of(entry.raw_tx)
        cause = FailureCause.GAS_LIMIT if int(receipt.get("gasUsed", 0)) >= gas else None
        for batch in batches:
            self.finality.requeue(batch, cause or FailureCause.REVERTED)

    # -- submitting ----------------------------------------------------------------------------

    def _submit_due(
        self,
        w3: Web3,
        registry: Registry,
        lane: Lane,
        now: int,
        counts: dict[str, int],
        awaiting: dict[str, int],
    ) -> None:
        """Fill the lane's nonce gaps first, then send its next transaction: at once if none
        waits, else in the next block's send window (see the module's docstring)."""
        count = self._count(w3, counts, lane.address)
        for _ in range(_MAX_FILLS):
            held = {e.nonce for e in self.store.live_outbox(lane.address)}
            nonce = count
            while nonce in held:
                nonce += 1
            above = sorted(n for n in held if n > nonce)
            lane.gaps.observe(count, nonce, above)
            window = self._step_window if self._paced else self.pacing.open_window()
            waiting = awaiting.get(lane.address, 0)
            if not above and not self._may_send(lane, waiting, window):
                return
            if lane.issuer is None:
                found = self.selector.relay(w3, registry, lane.address, now)
            else:
                found = self.selector.direct(w3, registry, lane.issuer, lane.address)
            if found is None:
                if above:
                    self._refill_from_above(w3, lane, nonce, above[0])
                return
            if isinstance(found, Resume):
                self._resume(w3, found)
            else:
                self._send(w3, lane, found, nonce)
            awaiting[lane.address] = lane.waiting = waiting + 1
            if window is not None:
                lane.window = window.number
            if not above:
                return

    def _may_send(self, lane: Lane, waiting: int, window: Window | None) -> bool:
        """True when the lane may send a new transaction while ``waiting`` of its own wait:
        once in each block's send window, under ``max_in_flight``; with no block predicted,
        only when none waits."""
        if window is None:
            return waiting == 0 and self.pacing.next_block() is None
        return lane.window != window.number and waiting < self.config.max_in_flight

    def _send(self, w3: Web3, lane: Lane, payload: Payload, nonce: int) -> None:
        ids = [b.id for b in payload.batches]
        fees = self.sender.first_fees(w3)
        # The signed bytes, their nonce and the submitted mark: one store transaction, before
        # the broadcast (a crash after it rebroadcasts the same bytes at the next step).
        entry = self.sender.sign_and_submit(lane, ids, nonce, fees, (payload.data, payload.gas))
        self._broadcast(w3, lane, entry)
        self.sent += 1

    def _resume(self, w3: Web3, resume: Resume) -> None:
        """Signed before a crash, not yet marked submitted: the same bytes go out."""
        frozen = [b.id for b in resume.batches if b.state == BatchState.FROZEN]
        self.store.mark_batches_submitted(frozen, resume.entry.tx_hash)
        self._broadcast(w3, self._lane_of(resume.entry.signer) or self.relay_lane, resume.entry)
        self.sent += 1

    def _broadcast(self, w3: Web3, lane: Lane, entry: OutboxEntry) -> None:
        self.sender.broadcast(w3, lane, entry)

    def _refill_from_above(self, w3: Web3, lane: Lane, nonce: int, above: int) -> None:
        """Nothing waits to fill the gap: re-sign the transaction just above it there."""
        entry = next(e for e in self.store.live_outbox(lane.address) if e.nonce == above)
        carried = [self.store.get_batch(i) for i in entry.batch_ids]
        ids = [b.id for b in carried if b is not None and b.state == BatchState.SUBMITTED]
        if not ids:
            return
        log.warning("re-signing batches %s at nonce %d to fill the gap", ids, nonce)
        fees = self.sender.first_fees(w3)
        call = call_of(entry.raw_tx)
        moved = self.sender.sign_and_record(lane, ids, nonce, fees, call, replaces=entry.id)
        self._broadcast(w3, lane, moved)


def _blocks_before(w3: Web3, head: int) -> list[tuple[int, int]]:
    """The number and timestamp of the blocks just before ``head`` (as many as the pacing
    keeps), read in one batch request; none when the node cannot say (the pacing then waits
    for three heads of its own). A transport error goes up to the step (read again next step)."""
    numbers = list(range(max(head - HEADS_KEPT + 1, 0), head))
    if not numbers:
        return []
    try:
        with w3.batch_requests() as batch:
            for number in numbers:
                batch.add(w3.eth.get_block(number))
            blocks: list[Any] = list(batch.execute())
        return [(int(b["number"]), int(b["timestamp"])) for b in blocks]
    except (BlockNotFound, TypeError, ValueError, KeyError, Web3RPCError) as e:
        log.info("no block history for the send windows: %s", e)
        return []


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
