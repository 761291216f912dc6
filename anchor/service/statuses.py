"""Sending the status changes integrators asked for, with each body's status key.

`StatusSender.step` runs once per worker step and costs one indexed read when nothing is open.
Each body's status key is one nonce lane: its oldest open change goes first and the next one
waits until that one is done or failed, so a key has at most one transaction in flight.

A pending change is built from the store (the document's leaf and proof, its batch's root;
for a supersession the successor's), replayed with ``eth_call`` from the status key, and, when
the registry would accept it, signed at the key's next nonce. The raw transaction is stored
BEFORE it is broadcast (`Store.record_status_tx`, state ``sent``): a process killed at any point
sends the same bytes again on its next step. A sent change is followed to its receipt: at
``confirmations`` blocks deep on a canonical block it is ``done``. A refusal of the registry,
in the replay or mined, is final: ``failed``, with the registry's reason in one sentence
(`anchor.chain.lifecycle.explain_revert`). A node that cannot be reached, a refused fee or an
empty account leave the change where it is (pending or sent) for the next step: nothing is lost.
No log line names a leaf: changes are named by their id.
"""

from __future__ import annotations

import logging
from typing import Any

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from anchor.chain.client import TRANSPORT_ERRORS, ChainClient
from anchor.chain.fees import initial_fees, is_fee_refusal, is_funds_refusal, latest_base_fee
from anchor.chain.lifecycle import DocumentRef, change_call, explain_revert
from anchor.chain.registry import Registry
from anchor.chain.relay import call_of
from anchor.chain.signer import Keyring, Signer
from anchor.errors import ChainError, ConfigError
from anchor.service.finality import receipt_of
from anchor.service.sending import SubmitterConfig
from anchor.service.submitter import Submitter
from anchor.store import Issuer, StatusChangeRecord, Store
from anchor.types import KeyPurpose, ReceiptState, StatusChangeState

__all__ = ["StatusSender"]

log = logging.getLogger(__name__)

_RECOVERABLE: tuple[type[BaseException], ...] = (ChainError, *TRANSPORT_ERRORS)

#: How nodes say they already hold a transaction (geth, Besu, anvil).
_ALREADY_KNOWN = ("already known", "known transaction", "already imported")


class _Wait(Exception):  # noqa: N818 (control flow, never leaves this module)
    """The change cannot move this step; the message says why (noted on the change)."""


class StatusSender:
    """Signs, stores, broadcasts and follows the open status changes; see the module."""

    def __init__(
        self,
        chain: ChainClient,
        registry_address: str,
        store: Store,
        keyring: Keyring,
        config: SubmitterConfig,
    ) -> None:
        self.chain = chain
        self.registry_address = Web3.to_checksum_address(registry_address)
        self.store = store
        self.keyring = keyring
        self.config = config

    @classmethod
    def beside(cls, submitter: Submitter, store: Store) -> StatusSender:
        """The sender of a worker: the submitter's chain, registry, keyring and settings."""
        return cls(
            submitter.chain,
            submitter.registry_address,
            store,
            submitter.bodies.keyring,
            submitter.config,
        )

    def step(self) -> None:
        """Move every key's oldest open change one step on; nothing to do costs one read."""
        changes = self.store.open_status_changes()
        if not changes:
            return
        try:
            w3 = self.chain.get()
            registry = Registry(w3, self.registry_address)
            issuers: dict[int, Issuer | None] = {}
            lanes: set[str] = set()
            for change in changes:
                if change.issuer_id not in issuers:
                    issuers[change.issuer_id] = self.store.get_issuer(change.issuer_id)
                issuer = issuers[change.issuer_id]
                if issuer is None:
                    continue
                key = issuer.key_for(KeyPurpose.STATUS)
                lane = (change.signer or (key.address if key else "")).lower()
                if lane in lanes:
                    continue  # one transaction in flight per key: it waits its turn
                lanes.add(lane)
                try:
                    if change.state is StatusChangeState.SENT:
                        self._follow(w3, change)
                    else:
                        self._send(w3, registry, change, issuer)
                except _Wait as wait:
                    self.store.note_status_error(change.id, str(wait))
        except _RECOVERABLE as e:
            log.warning("status changes wait: the chain cannot be reached: %s", e)
            self.chain.invalidate()

    # -- pending -> sent -----------------------------------------------------------------------

    def _signer(self, issuer: Issuer) -> Signer:
        key = issuer.key_for(KeyPurpose.STATUS)
        if key is None:
            raise _Wait(f"issuing body {issuer.id} has no status key that is not retired")
        try:
            signer = self.keyring.ready(key.address, key.keystore)
        except ConfigError as e:
            log.error("issuing body %d's status key: %s", issuer.id, e)
            raise _Wait(f"the status key's keystore cannot be read: {e}") from e
        if signer is None:  # being decrypted in the background: the next steps take it
            raise _Wait("the body's status key is being unlocked")
        return signer

    def _document(self, receipt_id: str, what: str) -> DocumentRef | str:
        """The document of a receipt as the registry knows it; a sentence when it is gone."""
        receipt = self.store.get_receipt(receipt_id)
        if receipt is None or receipt.is_erased or receipt.leaf is None:
            return f"the {what} receipt {receipt_id!r} was erased before the change was sent"
        if receipt.state is not ReceiptState.ANCHORED or receipt.batch_id is None:
            return f"the {what} receipt {receipt_id!r} is {receipt.state.value}, not anchored"
        batch = self.store.get_batch(receipt.batch_id)
        body = None if receipt.issuer_id is None else self.store.get_issuer(receipt.issuer_id)
        if batch is None or body is None or body.chain_body_id is None:
            return f"the {what} receipt {receipt_id!r} has no anchored batch of an onboarded body"
        return DocumentRef(body.chain_body_id, batch.root, receipt.proof, receipt.leaf)

    def _send(
        self, w3: Web3, registry: Registry, change: StatusChangeRecord, issuer: Issuer
    ) -> None:
        document = self._document(change.receipt_id, "document's")
        if isinstance(document, str):
            self._fail(change, document)
            return
        successor = None
        if change.successor_id is not None:
            found = self._document(change.successor_id, "successor's")
            if isinstance(found, str):
                self._fail(change, found)
                return
            successor = found
        signer = self._signer(issuer)
        name, args = change_call(
            change.kind, document, reason=change.reason, valid_until=change.valid_until,
            successor=successor,
        )  # fmt: skip
        function = getattr(registry.contract.functions, name)(*args)
        sender = {"from": signer.address}
        try:
            function.call(sender, "pending")
            estimate = int(function.estimate_gas(sender, "pending"))
        except (ContractCustomError, ContractLogicError) as e:
            self._fail(change, explain_revert(e.data, str(e)))
            return
        c = self.config
        fees = initial_fees(c.fee_mode, latest_base_fee(w3), c.priority_fee_gwei, c.max_fee_gwei)
        nonce = int(w3.eth.get_transaction_count(signer.address, "pending"))
        tx: dict[str, Any] = {
            "to": self.registry_address,
            "data": registry.contract.encode_abi(name, args=list(args)),
            "nonce": nonce,
            "gas": estimate + estimate // 4,
            "chainId": c.chain_id,
            "value": 0,
            **fees.tx_fields(),
        }
        signed = signer.sign_transaction(tx)
        sent = self.store.record_status_tx(
            change.id, str(signer.address), nonce, signed.raw_transaction, signed.hash
        )
        log.info(
            "status change signed",
            extra={"change": change.id, "kind": change.kind.value, "nonce": nonce,
                   "signer": str(signer.address), "tx": "0x" + signed.hash.hex()},
        )  # fmt: skip
        self._broadcast(w3, sent)

    # -- sent -> done | failed -----------------------------------------------------------------

    def _broadcast(self, w3: Web3, change: StatusChangeRecord) -> None:
        """Send the stored bytes (again); a refusal that goes away waits for the next step."""
        assert change.raw_tx is not None
        try:
            w3.eth.send_raw_transaction(change.raw_tx)
        except Web3RPCError as e:
            message = str(e)
            lowered = message.lower()
            if not any(k in lowered for k in _ALREADY_KNOWN):
                if is_funds_refusal(message):
                    raise _Wait(f"the status key {change.signer} cannot pay for gas") from e
                if is_fee_refusal(message):
                    raise _Wait(f"the node refuses the transaction's fee: {message}") from e
                if "nonce too low" in lowered:
                    return  # mined already, or taken by another transaction: the next step says
                raise _Wait(f"the node refuses the transaction: {message}") from e
        if change.sent_at is None:
            self.store.mark_status_broadcast(change.id)

    def _follow(self, w3: Web3, change: StatusChangeRecord) -> None:
        assert change.tx_hash is not None and change.signer is not None
        receipt = receipt_of(w3, change.tx_hash)
        if receipt is None:
            count = int(w3.eth.get_transaction_count(Web3.to_checksum_address(change.signer)))
            if change.nonce is not None and count > change.nonce:
                if receipt_of(w3, change.tx_hash) is not None:
                    return  # mined between the two calls: the next step follows it
                log.warning("status change %s: its nonce went to another transaction", change.id)
                self.store.return_status_to_pending(
                    change.id, "its nonce went to another transaction; it is signed again"
                )
                return
            self._broadcast(w3, change)
            return
        block_number = int(receipt["blockNumber"])
        if int(w3.eth.block_number) - block_number < self.config.confirmations:
            return
        canonical = w3.eth.get_block(block_number)["hash"]
        if bytes(canonical) != bytes(receipt["blockHash"]):
            return  # a reorg is under way; the receipt will move or vanish
        if int(receipt["status"]) == 1:
            self.store.mark_status_done(change.id, block_number)
            log.info(
                "status change done",
                extra={"change": change.id, "kind": change.kind.value, "block": block_number},
            )
            return
        self._fail(change, self._mined_revert(w3, change, block_number))

    def _mined_revert(self, w3: Web3, change: StatusChangeRecord, block_number: int) -> str:
        """Why a mined transaction reverted: the same call replayed on the block before it."""
        assert change.raw_tx is not None and change.signer is not None
        data, _ = call_of(change.raw_tx)
        call = {"from": change.signer, "to": self.registry_address, "data": HexBytes(data)}
        try:
            w3.eth.call(call, block_number - 1)  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError) as e:
            return explain_revert(e.data, str(e))
        return "the registry refused the change when it was mined (out of gas, or a race)"

    def _fail(self, change: StatusChangeRecord, error: str) -> None:
        self.store.mark_status_failed(change.id, error)
        log.warning(
            "status change failed: %s",
            error,
            extra={"change": change.id, "kind": change.kind.value},
        )
