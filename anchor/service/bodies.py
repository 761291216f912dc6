"""The bodies the worker anchors for: who is onboarded, their signers, their holds and metrics.

A body is *onboarded* once its anchoring key is registered on chain: ``keyOf(key).bodyId`` is
not 0. `Bodies.discover` asks the registry about the bodies not onboarded yet (at most every
`DISCOVER_EVERY` seconds), stores the body id it finds (`Store.set_chain_body_id`), and says ONE
line per body and process while a body waits, with ``anchor_body_onboarded{issuer}`` at 0. Until
then the body's digests stay pending: nothing is lost, nothing is sent.
"""

from __future__ import annotations

import logging
import time

from anchor.chain.registry import Registry
from anchor.chain.signer import Keyring, Signer
from anchor.errors import ConfigError
from anchor.service.holds import Holds
from anchor.service.metrics import Metrics
from anchor.store import Batch, Issuer, Store
from anchor.types import KeyPurpose

log = logging.getLogger(__name__)

#: Seconds between two looks at the registry for bodies not onboarded yet.
DISCOVER_EVERY = 2.0

#: Bodies not onboarded asked about in one look at most (one ``keyOf`` call each); the next
#: look goes on with the following ones, so hundreds of waiting bodies never flood the node.
DISCOVER_AT_MOST = 50


class Bodies:
    """The onboarded bodies of this step, their anchoring signers and their holds."""

    def __init__(self, store: Store, metrics: Metrics, keyring: Keyring) -> None:
        self.store = store
        self.metrics = metrics
        self.keyring = keyring
        self._onboarded: dict[int, Issuer] = {}
        self._holds: dict[int, Holds] = {}
        self._told: set[int] = set()
        self._last_discovery = float("-inf")
        self._after = 0  # the next look starts after this issuer id

    def refresh(self) -> None:
        """Read the onboarded bodies from the store again."""
        self._onboarded = {i.id: i for i in self.store.list_issuers(onboarded=True)}

    def onboarded(self) -> list[Issuer]:
        """The onboarded bodies, by id."""
        return list(self._onboarded.values())

    def of(self, batch: Batch) -> Issuer | None:
        """The onboarded body of ``batch``, or None (no body, or not onboarded)."""
        return None if batch.issuer_id is None else self._onboarded.get(batch.issuer_id)

    def signer(self, issuer: Issuer) -> Signer | None:
        """The signer of the body's anchoring key; None while its keystore is being decrypted
        (`Keyring.ready`); ConfigError when there is none or its keystore cannot be read."""
        key = issuer.key_for(KeyPurpose.ANCHORING)
        if key is None:
            raise ConfigError(f"issuing body {issuer.id} has no anchoring key that is not retired")
        return self.keyring.ready(key.address, key.keystore)

    def preload(self) -> None:
        """Start decrypting the anchoring keys of every onboarded body in the background."""
        for issuer in self.store.list_issuers(onboarded=True):
            key = issuer.key_for(KeyPurpose.ANCHORING)
            if key is not None:
                self.keyring.ready(key.address, key.keystore)

    def holds(self, issuer_id: int) -> Holds:
        """The hold scope of one body."""
        found = self._holds.get(issuer_id)
        if found is None:
            found = self._holds[issuer_id] = Holds(self.store, self.metrics, issuer_id)
        return found

    def held(self) -> list[int]:
        """The bodies on hold now."""
        return [i for i, h in self._holds.items() if h.cause is not None]

    def discover(self, registry: Registry) -> None:
        """Store the on-chain id of every body whose anchoring key the registry now knows."""
        now = time.monotonic()
        if now - self._last_discovery < DISCOVER_EVERY:
            return
        self._last_discovery = now
        waiting = self.store.list_issuers(onboarded=False)
        turn = [i for i in waiting if i.id > self._after][:DISCOVER_AT_MOST]
        if len(turn) < DISCOVER_AT_MOST:  # wrap around
            turn += [i for i in waiting if i.id <= self._after][: DISCOVER_AT_MOST - len(turn)]
        self._after = turn[-1].id if turn else 0
        for issuer in turn:
            key = issuer.key_for(KeyPurpose.ANCHORING)
            body_id = 0 if key is None else registry.key_of(key.address).body_id
            label = str(issuer.id)
            if body_id == 0:
                self.metrics.body_onboarded.labels(issuer=label).set(0)
                if issuer.id not in self._told:
                    self._told.add(issuer.id)
                    log.warning(
                        "issuing body %d (%s) is not onboarded: its anchoring key %s is not "
                        "registered on chain, so its digests wait, pending; the registrar "
                        'registers it (docs/operations.md, "Issuing bodies")',
                        issuer.id,
                        issuer.name_fr,
                        key.address if key else "(none)",
                        extra={"issuer": issuer.id},
                    )
                continue
            self.store.set_chain_body_id(issuer.id, body_id)
            self.metrics.body_onboarded.labels(issuer=label).set(1)
            log.info(
                "issuing body %d (%s) is onboarded: body %d on chain",
                issuer.id,
                issuer.name_fr,
                body_id,
                extra={"issuer": issuer.id, "body": body_id},
            )
        for issuer in self._onboarded.values():
            self.metrics.body_onboarded.labels(issuer=str(issuer.id)).set(1)


def update_body_metrics(store: Store, metrics: Metrics) -> None:
    """Set every body's backlog gauges from the store (one grouped read each)."""
    now = time.time()
    for gauges in store.issuer_gauges():
        label = str(gauges.issuer_id)
        metrics.body_pending.labels(issuer=label).set(gauges.pending)
        oldest = gauges.oldest_pending
        age = 0.0 if oldest is None else max(0.0, now - oldest.timestamp())
        metrics.body_oldest_pending_age.labels(issuer=label).set(age)
        for state, count in gauges.batches.items():
            metrics.body_batches.labels(issuer=label, state=state).set(count)
