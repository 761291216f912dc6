"""Signing, recording and broadcasting the transactions of one signer (a *lane*).

A lane is one signer with its own nonce sequence: the relayer (relay mode), or a body's anchoring
key (direct mode). Its signed raw transaction and nonce are recorded in the outbox BEFORE they
are broadcast (`Store.record_signed_tx`), so a restart sends the same bytes. A refusal for the
fee re-prices the transaction at once from the chain's current fees (`anchor.chain.fees`); a
refusal for funds holds the lane; neither is taken for an unavailable node. A replacement (a
stuck transaction, a refused fee) sends exactly the same call, read back from the stored bytes
(`anchor.chain.relay.call_of`), at the same nonce with higher fees.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from web3 import Web3
from web3.exceptions import Web3RPCError

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
from anchor.chain.relay import call_of
from anchor.chain.signer import Signer
from anchor.errors import ChainError
from anchor.service.holds import Holds
from anchor.service.metrics import Metrics
from anchor.service.progress import GapWatch
from anchor.settings import Settings
from anchor.store import Issuer, OutboxEntry, Store
from anchor.types import BatchState, FailureCause, OutboxState

log = logging.getLogger(__name__)

#: How nodes say they already hold a transaction (geth, Besu, anvil).
_ALREADY_KNOWN = ("already known", "known transaction", "already imported")


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
    submit_mode: Literal["relay", "direct"] = "relay"
    relay_max_anchors: int = 50
    relay_gas_cap: int = 8_000_000
    max_in_flight: int = 3
    send_lead: float = 0.5

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
            submit_mode=settings.submit_mode,
            relay_max_anchors=settings.relay_max_anchors,
            relay_gas_cap=settings.relay_gas_cap,
            max_in_flight=settings.max_in_flight,
            send_lead=settings.send_lead,
        )


@dataclass
class Lane:
    """One signer and its nonce sequence: the relayer (``issuer`` None) or a body's key.

    ``waiting``: its transactions waiting for inclusion at the last step; ``window``: the block
    whose send window it last sent in (`anchor.service.pacing`).
    """

    signer: Signer
    holds: Holds
    gaps: GapWatch
    issuer: Issuer | None = None
    waiting: int = 0
    window: int | None = None

    @property
    def address(self) -> str:
        """The signer's checksum address (the outbox's ``signer``)."""
        return str(self.signer.address)


class Sender:
    """Signs, records and broadcasts a lane's transactions."""

    def __init__(
        self, store: Store, metrics: Metrics, config: SubmitterConfig, registry_address: str
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.config = config
        self.registry_address = Web3.to_checksum_address(registry_address)

    def first_fees(self, w3: Web3) -> Fees:
        """The fees of a new transaction, from the chain's latest base fee."""
        c = self.config
        return initial_fees(c.fee_mode, latest_base_fee(w3), c.priority_fee_gwei, c.max_fee_gwei)

    def sign_and_record(
        self,
        lane: Lane,
        batch_ids: list[int],
        nonce: int,
        fees: Fees,
        call: tuple[str | bytes, int],
        replaces: int | None = None,
    ) -> OutboxEntry:
        """Sign the call ``(data, gas)`` at ``nonce`` and persist it before any broadcast."""
        signed = self._sign(lane, nonce, fees, call)
        entry = self.store.record_signed_tx(
            batch_ids,
            nonce,
            lane.address,
            signed.raw_transaction,
            signed.hash,
            **_fee_columns(fees),
            replaces=replaces,
        )
        self._signed(lane, entry)
        return entry

    def sign_and_submit(
        self, lane: Lane, batch_ids: list[int], nonce: int, fees: Fees, call: tuple[str, int]
    ) -> OutboxEntry:
        """`sign_and_record` of a new transaction of frozen batches that also marks them
        submitted, in the same store transaction (`Store.record_signed_submission`), before
        any broadcast."""
        signed = self._sign(lane, nonce, fees, call)
        entry, _ = self.store.record_signed_submission(
            batch_ids, nonce, lane.address, signed.raw_transaction, signed.hash,
            **_fee_columns(fees),
        )  # fmt: skip
        self._signed(lane, entry)
        return entry

    def _sign(self, lane: Lane, nonce: int, fees: Fees, call: tuple[str | bytes, int]) -> Any:
        data, gas = call
        tx: dict[str, Any] = {
            "to": self.registry_address,
            "data": data if isinstance(data, str) else "0x" + data.hex(),
            "nonce": nonce,
            "gas": gas,
            "chainId": self.config.chain_id,
            "value": 0,
            **fees.tx_fields(),
        }
        return lane.signer.sign_transaction(tx)

    @staticmethod
    def _signed(lane: Lane, entry: OutboxEntry) -> None:
        log.info(
            "signed",
            extra={"batches": list(entry.batch_ids), "nonce": entry.nonce, "signer": lane.address,
                   "tx": "0x" + entry.tx_hash.hex()},
        )  # fmt: skip

    def broadcast(self, w3: Web3, lane: Lane, entry: OutboxEntry, *, reprice: bool = True) -> None:
        """Send the stored bytes; see the module's docstring for refusals."""
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
                    self.replace(w3, lane, entry, reprice=False)
                return
            elif is_funds_refusal(message):
                self.metrics.failures.labels(cause=FailureCause.INSUFFICIENT_FUNDS).inc()
                lane.holds.hold(FailureCause.INSUFFICIENT_FUNDS, None)
                return
            elif "nonce too low" in lowered or "replacement" in lowered:
                # Another transaction holds the nonce; the next step looks the hash up.
                log.info("broadcast refused: %s", e, extra={"tx": "0x" + entry.tx_hash.hex()})
                return
            else:
                self.metrics.failures.labels(cause=FailureCause.BROADCAST).inc()
                raise ChainError(f"broadcast failed: {e}") from e
        lane.holds.broadcast_accepted()
        if entry.state == OutboxState.SIGNED:
            self.store.mark_broadcast(entry.id)
            self.metrics.submissions.inc()

    def replace(self, w3: Web3, lane: Lane, stuck: OutboxEntry, *, reprice: bool = True) -> None:
        """Re-sign ``stuck``'s call at its nonce, priced from the chain's current fees and at
        least 12.5% above it; on a free-gas chain there is nothing to raise: rebroadcast it."""
        old = stored_fees(stuck.gas_price, stuck.max_fee_per_gas, stuck.max_priority_fee_per_gas)
        c = self.config
        fees = replacement_fees(
            old, c.fee_mode, latest_base_fee(w3), c.priority_fee_gwei, c.max_fee_gwei
        )
        open_states = (BatchState.FROZEN, BatchState.SUBMITTED)
        carried = [self.store.get_batch(i) for i in stuck.batch_ids]
        batch_ids = [b.id for b in carried if b is not None and b.state in open_states]
        if fees == old or not batch_ids:
            if reprice:
                self.broadcast(w3, lane, stuck, reprice=False)
            elif fees == old:
                lane.holds.hold(FailureCause.FEE_TOO_LOW, None)
            return
        entry = self.sign_and_record(
            lane, batch_ids, stuck.nonce, fees, call_of(stuck.raw_tx), replaces=stuck.id
        )
        log.warning(
            "replacing transaction at nonce %d with fees from the chain's",
            stuck.nonce,
            extra={"batches": batch_ids, "nonce": stuck.nonce, "max_fee": fees.max_fee_per_gas},
        )
        self.broadcast(w3, lane, entry, reprice=reprice)


def _fee_columns(fees: Fees) -> dict[str, int | None]:
    """The outbox's fee columns of a transaction signed with ``fees`` (a zero-gas network's
    legacy price 0, else the EIP-1559 caps)."""
    zero = fees.mode == "zero"
    return {
        "max_fee_per_gas": None if zero else fees.max_fee_per_gas,
        "max_priority_fee_per_gas": None if zero else fees.max_priority_fee_per_gas,
        "gas_price": 0 if zero else None,
    }
