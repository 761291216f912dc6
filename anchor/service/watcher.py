"""The watcher: compares what the registry records with what the store knows.

Nothing else notices a leaked key, so the worker follows the registry's events from a cursor
kept in the store (`Store.watch_cursor`), one `eth_getLogs` per step over at most `MAX_BLOCKS`
blocks that are ``confirmations`` deep, and raises `anchor_watcher_alerts_total{kind}` with one
warning log line for each of:

* ``unknown_anchor``: a root anchored by one of our signing keys that no batch of the store has
  (the key signed outside the service);
* ``revocation_by_our_key``: a document or root revoked by one of our keys. The service never
  revokes with its anchoring keys and the store records no revocation request, so every such
  revocation was made outside the service;
* ``role_change``: a role (admin, issuer, revoker) granted or revoked;
* ``name_change``: an issuer's display name set (what citizens read);
* ``paused`` and ``unpaused``: the registry paused or unpaused.

The first step starts at ``from_block`` (``ANCHOR_WATCH_FROM_BLOCK``) or, without it, at the
head: nothing before is examined. No log line holds a leaf.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from web3 import Web3

from anchor.chain.client import ChainClient
from anchor.chain.registry import DEFAULT_ADMIN_ROLE, ISSUER_ROLE, REVOKER_ROLE
from anchor.errors import ChainError, StoreError
from anchor.store import Store

log = logging.getLogger(__name__)

#: Blocks read in one step at most; a long backlog is caught up over several iterations.
MAX_BLOCKS = 2_000

ALERT_KINDS = (
    "unknown_anchor",
    "revocation_by_our_key",
    "role_change",
    "name_change",
    "paused",
    "unpaused",
)


def _topic(signature: str) -> bytes:
    return bytes(Web3.keccak(text=signature))


ROOT_ANCHORED = _topic("RootAnchored(bytes32,address,uint32,uint64)")
DOCUMENT_REVOKED = _topic("DocumentRevoked(bytes32,bytes32,address,uint16)")
ROOT_REVOKED = _topic("RootRevoked(bytes32,address,uint16)")
ROLE_GRANTED = _topic("RoleGranted(bytes32,address,address)")
ROLE_REVOKED = _topic("RoleRevoked(bytes32,address,address)")
ISSUER_NAME_SET = _topic("IssuerNameSet(address,string)")
PAUSED = _topic("Paused(address)")
UNPAUSED = _topic("Unpaused(address)")

_ROLES = {bytes(DEFAULT_ADMIN_ROLE): "admin", bytes(ISSUER_ROLE): "issuer",
          bytes(REVOKER_ROLE): "revoker"}  # fmt: skip


class WatcherMetrics:
    """The watcher's metrics, on the service's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.alerts = Counter(
            "anchor_watcher_alerts_total",
            "Registry events the service did not make or that change governance, by kind",
            ["kind"],
            registry=registry,
        )
        for kind in ALERT_KINDS:
            self.alerts.labels(kind=kind)
        self.next_block = Gauge(
            "anchor_watcher_next_block",
            "Next block whose registry events are read",
            registry=registry,
        )


class Watcher:
    """Follows one registry's events and raises an alert for what the service did not do."""

    def __init__(
        self,
        chain: ChainClient,
        registry_address: str,
        store: Store,
        metrics: WatcherMetrics,
        our_keys: Iterable[str],
        *,
        confirmations: int = 0,
        from_block: int | None = None,
    ) -> None:
        """Watch ``registry_address`` through ``chain``; ``our_keys`` are the service's signers."""
        self.chain = chain
        self.address = Web3.to_checksum_address(registry_address)
        self.store = store
        self.metrics = metrics
        self.our_keys = {k.lower() for k in our_keys}
        self.confirmations = confirmations
        self.from_block = from_block
        self.cursor_name = f"registry:{chain.chain_id}:{self.address.lower()}"

    def step(self) -> int:
        """Read the next range of final blocks; return the alerts raised. Never raises."""
        try:
            return self._step()
        except (ChainError, StoreError) as e:
            log.warning("watcher: could not follow the registry now: %s", e)
            return 0

    def _step(self) -> int:
        head = self.chain.read(lambda w3: int(w3.eth.block_number))
        final = head - self.confirmations
        start = self.store.watch_cursor(self.cursor_name)
        if start is None:
            start = self.from_block if self.from_block is not None else head + 1
            self.store.set_watch_cursor(self.cursor_name, start)
            log.info("watcher: following the registry", extra={"from_block": start})
        if start > final:
            self.metrics.next_block.set(start)
            return 0
        end = min(final, start + MAX_BLOCKS - 1)
        logs = self.chain.read(
            lambda w3: w3.eth.get_logs(
                {"address": self.address, "fromBlock": start, "toBlock": end}
            )
        )
        raised = sum(self._examine(entry) for entry in logs)
        self.store.set_watch_cursor(self.cursor_name, end + 1)
        self.metrics.next_block.set(end + 1)
        return raised

    def _examine(self, entry: Any) -> int:
        """Raise the alert an event calls for, if any; return how many (0 or 1)."""
        topics: Sequence[bytes] = [bytes(t) for t in entry["topics"]]
        if not topics:
            return 0
        where = {
            "block": int(entry["blockNumber"]),
            "tx": "0x" + bytes(entry["transactionHash"]).hex(),
        }
        kind, event = topics[0], topics[1:]
        if kind == ROOT_ANCHORED:
            issuer = _address(event[1])
            if issuer in self.our_keys and not self.store.knows_root(event[0]):
                return self._alert(
                    "unknown_anchor",
                    "a root was anchored with one of our keys but no batch of ours has it; "
                    "the key may have leaked",
                    root="0x" + event[0].hex(), key=issuer, **where,
                )  # fmt: skip
        elif kind in (DOCUMENT_REVOKED, ROOT_REVOKED):
            by = _address(event[2] if kind == DOCUMENT_REVOKED else event[1])
            if by in self.our_keys:
                what = "a document" if kind == DOCUMENT_REVOKED else "a whole root"
                return self._alert(
                    "revocation_by_our_key",
                    f"{what} was revoked with one of our keys, which the service never does",
                    root="0x" + event[0].hex(), key=by, **where,
                )  # fmt: skip
        elif kind in (ROLE_GRANTED, ROLE_REVOKED):
            role = _ROLES.get(event[0], "0x" + event[0].hex())
            done = "granted to" if kind == ROLE_GRANTED else "revoked from"
            return self._alert(
                "role_change",
                f"the {role} role was {done} {_address(event[1])}",
                role=role, account=_address(event[1]), sender=_address(event[2]), **where,
            )  # fmt: skip
        elif kind == ISSUER_NAME_SET:
            return self._alert(
                "name_change", "an issuer's display name was set", issuer=_address(event[0]),
                **where,
            )  # fmt: skip
        elif kind in (PAUSED, UNPAUSED):
            account = _address(bytes(entry["data"])[-32:])
            state = "paused" if kind == PAUSED else "unpaused"
            return self._alert(state, f"the registry was {state}", account=account, **where)
        return 0

    def _alert(self, kind: str, message: str, **fields: object) -> int:
        self.metrics.alerts.labels(kind=kind).inc()
        log.warning("watcher: %s", message, extra={"alert": kind, **fields})
        return 1


def _address(word: bytes) -> str:
    """The address in a 32-byte topic or data word, lower case."""
    return "0x" + word[-20:].hex()
