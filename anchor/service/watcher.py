"""The watcher: compares what the registry records with what the store knows.

Nothing else notices a leaked key, so the worker follows the registry's events from a cursor
kept in the store (`Store.watch_cursor`), one `eth_getLogs` per step over at most `MAX_BLOCKS`
blocks that are ``confirmations`` deep, and raises `anchor_watcher_alerts_total{kind}` with one
warning log line for each of:

* ``unknown_anchor``: a root anchored under one of the service's bodies (directly,
  `RootAnchored`, or relayed, `RootsAnchored`) that no batch of the store has: the body's key
  signed outside the service;
* ``revocation_by_our_key``: a status change made with one of the service's keys. The service
  makes none on its own, so every such change was made outside it;
* ``role_change``: a role (admin, registrar, pauser, revoker) granted or revoked;
* ``admin_transfer``: a default admin transfer or delay change scheduled or cancelled;
* ``name_change``: a body's names changed (what citizens read);
* ``body_change``: a body registered, suspended, reactivated or retired;
* ``key_change``: a key added, retired or marked compromised;
* ``annulment``: a status change annulled by the registrar;
* ``paused`` and ``unpaused``: anchoring paused or resumed.

The first step starts at ``from_block`` (``ANCHOR_WATCH_FROM_BLOCK``) or, without it, at the
head: nothing before is examined. No log line holds a leaf.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from web3 import Web3

from anchor.chain.client import ChainClient
from anchor.chain.events import ROOT_ANCHORED, ROOTS_ANCHORED, anchored_in
from anchor.chain.registry import DEFAULT_ADMIN_ROLE, PAUSER_ROLE, REGISTRAR_ROLE, REVOKER_ROLE
from anchor.errors import ChainError, StoreError
from anchor.store import Store

log = logging.getLogger(__name__)

#: Blocks read in one step at most; a long backlog is caught up over several iterations.
MAX_BLOCKS = 2_000

ALERT_KINDS = (
    "unknown_anchor",
    "revocation_by_our_key",
    "role_change",
    "admin_transfer",
    "name_change",
    "body_change",
    "key_change",
    "annulment",
    "paused",
    "unpaused",
)


def _topic(signature: str) -> bytes:
    return bytes(Web3.keccak(text=signature))


STATUS_CHANGED = _topic("StatusChanged(uint32,bytes32,bytes32,uint256,uint8,uint16,address)")
STATUS_CHANGE_ANNULLED = _topic("StatusChangeAnnulled(uint32,bytes32,bytes32,uint256)")
ROLE_GRANTED = _topic("RoleGranted(bytes32,address,address)")
ROLE_REVOKED = _topic("RoleRevoked(bytes32,address,address)")
BODY_RENAMED = _topic("BodyRenamed(uint32,uint64,(string,string,string,string))")
PAUSED = _topic("Paused(address)")
UNPAUSED = _topic("Unpaused(address)")

#: Governance events that raise an alert by their name alone: topic -> (kind, sentence).
_GOVERNANCE = {
    _topic("DefaultAdminTransferScheduled(address,uint48)"): (
        "admin_transfer", "a default admin transfer was scheduled"),
    _topic("DefaultAdminTransferCanceled()"): (
        "admin_transfer", "a default admin transfer was cancelled"),
    _topic("DefaultAdminDelayChangeScheduled(uint48,uint48)"): (
        "admin_transfer", "a change of the admin transfer delay was scheduled"),
    _topic("DefaultAdminDelayChangeCanceled()"): (
        "admin_transfer", "a change of the admin transfer delay was cancelled"),
    _topic("BodyRegistered(uint32,uint8,string)"): ("body_change", "a body was registered"),
    _topic("BodyStatusSet(uint32,uint8)"): ("body_change", "a body's status was set"),
    _topic("KeyAdded(uint32,address,uint8,uint64,uint64)"): ("key_change", "a key was added"),
    _topic("KeyRetired(address,uint64)"): ("key_change", "a key was retired"),
    _topic("KeyCompromised(address,uint64)"): ("key_change", "a key was marked compromised"),
}  # fmt: skip

_ROLES = {bytes(DEFAULT_ADMIN_ROLE): "admin", REGISTRAR_ROLE: "registrar",
          PAUSER_ROLE: "pauser", REVOKER_ROLE: "revoker"}  # fmt: skip


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
        our_bodies: Callable[[], Collection[int]] = frozenset,
        confirmations: int = 0,
        from_block: int | None = None,
    ) -> None:
        """Watch ``registry_address`` through ``chain``. ``our_keys`` are the service's signing
        keys (relayer, bodies' keys); ``our_bodies`` returns the on-chain ids of its bodies."""
        self.chain = chain
        self.address = Web3.to_checksum_address(registry_address)
        self.store = store
        self.metrics = metrics
        self.our_keys = {k.lower() for k in our_keys}
        self.our_bodies = our_bodies
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
        data = bytes(entry["data"])
        if kind in (ROOT_ANCHORED, ROOTS_ANCHORED):
            return self._unknown_anchors(anchored_in([entry], self.address), where)
        if kind == STATUS_CHANGED:
            actor = _address(data[-32:])
            if actor in self.our_keys:
                return self._alert(
                    "revocation_by_our_key",
                    "a status was changed with one of our keys, which the service never does",
                    body=_uint(event[0]), root="0x" + event[1].hex(), key=actor, **where,
                )  # fmt: skip
            return 0
        if kind == STATUS_CHANGE_ANNULLED:
            return self._alert(
                "annulment", "a status change was annulled", body=_uint(event[0]),
                root="0x" + event[1].hex(), **where,
            )  # fmt: skip
        if kind in (ROLE_GRANTED, ROLE_REVOKED):
            role = _ROLES.get(event[0], "0x" + event[0].hex())
            done = "granted to" if kind == ROLE_GRANTED else "revoked from"
            return self._alert(
                "role_change",
                f"the {role} role was {done} {_address(event[1])}",
                role=role, account=_address(event[1]), sender=_address(event[2]), **where,
            )  # fmt: skip
        if kind == BODY_RENAMED:
            return self._alert(
                "name_change", "a body's names were changed", body=_uint(event[0]), **where
            )
        if kind in _GOVERNANCE:
            alert, sentence = _GOVERNANCE[kind]
            subject = {"subject": _uint(event[0]) if alert == "body_change" else
                       _address(event[0])} if event else {}  # fmt: skip
            return self._alert(alert, sentence, **subject, **where)
        if kind in (PAUSED, UNPAUSED):
            account = _address(data[-32:])
            state = "paused" if kind == PAUSED else "unpaused"
            return self._alert(state, f"anchoring was {state}", account=account, **where)
        return 0

    def _unknown_anchors(self, anchors: list[tuple[int, bytes]], where: dict[str, object]) -> int:
        """Alert for each root anchored under one of our bodies that the store does not know."""
        ours = self.our_bodies()
        raised = 0
        for body, root in anchors:
            if body in ours and not self.store.knows_root(root):
                raised += self._alert(
                    "unknown_anchor",
                    "a root was anchored under one of our bodies but no batch of ours has it; "
                    "the body's key may have leaked",
                    body=body, root="0x" + root.hex(), **where,
                )  # fmt: skip
        return raised

    def _alert(self, kind: str, message: str, **fields: object) -> int:
        self.metrics.alerts.labels(kind=kind).inc()
        log.warning("watcher: %s", message, extra={"alert": kind, **fields})
        return 1


def _address(word: bytes) -> str:
    """The address in a 32-byte topic or data word, lower case."""
    return "0x" + word[-20:].hex()


def _uint(word: bytes) -> int:
    """The unsigned integer in a 32-byte topic or data word."""
    return int.from_bytes(word, "big")
