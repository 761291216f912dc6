"""What the next transaction of a signer carries, each body checked on its own first.

Relay mode: the frozen batches of every onboarded body, oldest first, up to
``relay_max_anchors``; each is signed EIP-712 by its body's anchoring key and replayed alone
(``eth_call`` of ``anchorSigned([it])`` from the relayer), every replay of one selection in ONE
JSON-RPC batch request (one round trip however many bodies; the ones the node refuses there
are replayed again one by one, which says why). A body whose anchor the registry
refuses (a retired or compromised key, a suspended body, a bad signature, an unreadable
keystore) is held with its cause (`anchor.service.holds`, scope of that body) and left out: one
bad body never blocks the others. The gas limit is the estimate of the whole list plus 25%,
capped by ``relay_gas_cap`` (fewer anchors go when it would not fit); once the node has
estimated a list, the next one's gas is guessed and checked by one ``eth_call`` at that gas
instead of a new estimate (`anchor.service.relay_gas`).

Direct mode: the oldest frozen batch of one body, sent by that body's anchoring key with
``anchor(root, n)`` and the fixed ``gas_limit``, replayed by ``eth_estimateGas`` first.

Either way a batch whose signed transaction is already in the outbox (a crash between signing
and the submitted mark) is resumed with the same bytes, and a root the registry already holds
for the body is adopted, never anchored twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from web3.exceptions import ContractCustomError, ContractLogicError

from anchor.chain.eip712 import sign_anchor
from anchor.chain.registry import Registry, SignedAnchor, decode_revert
from anchor.chain.relay import anchor_signed_data
from anchor.errors import ConfigError
from anchor.service.bodies import Bodies
from anchor.service.finality import Finality
from anchor.service.holds import Holds
from anchor.service.metrics import Metrics
from anchor.service.relay_gas import GasGauge
from anchor.store import Batch, Issuer, OutboxEntry, Store
from anchor.types import IN_FLIGHT_OUTBOX_STATES, FailureCause

log = logging.getLogger(__name__)

#: A relayed signature is good for this long (seconds of chain time).
RELAY_DEADLINE = 24 * 3600

#: Registry errors and what they mean for a batch; None: the root is anchored already (adopt).
REVERTS: dict[str, FailureCause | None] = {
    "EnforcedPause": FailureCause.PAUSED,
    "RegistryZeroRoot": FailureCause.INVALID_BATCH,
    "RegistryZeroLeafCount": FailureCause.INVALID_BATCH,
    "RegistryRootAlreadyAnchored": None,
    "RegistryUnknownKey": FailureCause.BAD_SIGNATURE,
    "RegistryBadSignature": FailureCause.BAD_SIGNATURE,
    "RegistryWrongPurpose": FailureCause.BAD_SIGNATURE,
    "RegistryKeyNotValid": FailureCause.KEY_NOT_VALID,
    "AccessControlUnauthorizedAccount": FailureCause.MISSING_ROLE,
}

#: Causes that stop every body, not one: the relayer's scope.
GLOBAL_CAUSES = (FailureCause.PAUSED,)


@dataclass(frozen=True)
class Payload:
    """A new transaction: the batches it anchors, its call data and its gas limit."""

    batches: tuple[Batch, ...]
    data: str
    gas: int


@dataclass(frozen=True)
class Resume:
    """A transaction signed before a crash and never marked submitted: send it again."""

    entry: OutboxEntry
    batches: tuple[Batch, ...]


def revert_cause(error: ContractLogicError) -> tuple[str, FailureCause | None]:
    """The registry error's name and its cause (None: the root is anchored already)."""
    data = error.data
    decoded = decode_revert(data) if isinstance(data, str | bytes) and data else None
    name = decoded[0] if decoded else "unknown"
    return name, REVERTS.get(name, FailureCause.REVERTED)


class Selector:
    """Chooses and checks what goes out next; see the module's docstring."""

    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        bodies: Bodies,
        finality: Finality,
        relayer_holds: Holds,
        *,
        chain_id: int,
        gas_limit: int,
        relay_max_anchors: int = 50,
        relay_gas_cap: int = 8_000_000,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.bodies = bodies
        self.finality = finality
        self.relayer_holds = relayer_holds
        self.chain_id = chain_id
        self.gas_limit = gas_limit
        self.relay_max_anchors = relay_max_anchors
        self.relay_gas_cap = relay_gas_cap
        self.gas = GasGauge()

    # -- shared checks -------------------------------------------------------------------------

    def resumable(self, batch: Batch, sent: list[OutboxEntry] | None = None) -> Resume | None:
        """The batch's signed transaction not yet marked submitted, with all it carries
        (``sent``: the batch's outbox rows when already read)."""
        sent = self.store.outbox_of_batch(batch.id) if sent is None else sent
        live = [e for e in sent if e.state in IN_FLIGHT_OUTBOX_STATES]
        if not live:
            return None
        entry = live[-1]
        carried = [self.store.get_batch(i) for i in entry.batch_ids]
        return Resume(entry, tuple(b for b in carried if b is not None))

    def _on_chain(self, w3: Any, registry: Registry, batch: Batch, issuer: Issuer) -> bool:
        """True (and adopted) when the registry holds the root for this body already."""
        assert issuer.chain_body_id is not None
        if registry.anchor_of(issuer.chain_body_id, batch.root).anchored:
            self.finality.adopt_existing_anchor(w3, registry, batch, issuer.chain_body_id)
            return True
        return False

    def _refused(self, batch: Batch, issuer: Issuer, name: str, cause: FailureCause) -> None:
        """Account for a refusal of one body's anchor (not a global one)."""
        label = str(issuer.id)
        self.metrics.body_failures.labels(issuer=label, cause=cause).inc()
        if cause.permanent:
            self.finality.fail(batch, cause)
            return
        if cause in (FailureCause.REVERTED, FailureCause.BAD_SIGNATURE):
            log.error(
                "the registry refuses issuing body %d's anchor: %s",
                issuer.id,
                name,
                extra={"batch": batch.id, "issuer": issuer.id, "error": name},
            )
        self.bodies.holds(issuer.id).hold(cause, batch)

    # -- relay ---------------------------------------------------------------------------------

    def relay(self, w3: Any, registry: Registry, relayer: str, now: int) -> Payload | Resume | None:
        """The next relayed transaction, or None when nothing can go out now."""
        held = set(self.bodies.held())
        deadline = now + RELAY_DEADLINE  # one per call: every item of it is signed with it
        free = [i.id for i in self.bodies.onboarded() if i.id not in held]
        # A held body is probed with its oldest batch only: its backlog never crowds the others.
        probes = [self.store.next_batch_for_submission(i) for i in sorted(held)]
        candidates = self.store.frozen_batches(free, self.relay_max_anchors)
        candidates += [b for b in probes if b is not None]
        signed = self._sign_all(w3, registry, relayer, deadline, candidates, held, probes)
        if isinstance(signed, Resume):
            return signed
        passed = _preflight_all(w3, registry, relayer, deadline, [i for _, _, i in signed])
        items: list[tuple[Batch, SignedAnchor]] = []
        for (batch, issuer, item), ok in zip(signed, passed, strict=True):
            if issuer.id in held and batch not in probes:
                continue  # its body was refused above, on an older batch
            try:
                if not ok:  # refused in the batch request (or none was made): replayed alone
                    alone = registry.contract.functions.anchorSigned(deadline, [item.as_tuple()])
                    alone.call({"from": relayer})
            except (ContractCustomError, ContractLogicError) as e:
                name, cause = revert_cause(e)
                if cause is None:  # anchored already: adopted (or by the next step)
                    self._on_chain(w3, registry, batch, issuer)
                    continue
                if cause in GLOBAL_CAUSES:
                    self.relayer_holds.hold(cause, batch)
                    return None
                self._refused(batch, issuer, name, cause)
                held.add(issuer.id)
                continue
            self.bodies.holds(issuer.id).preflight_passed()
            items.append((batch, item))
            if len(items) >= self.relay_max_anchors:
                break
        if not items:
            return None
        self.relayer_holds.preflight_passed()
        return self._fit(registry, relayer, deadline, items)

    def _sign_all(
        self,
        w3: Any,
        registry: Registry,
        relayer: str,
        deadline: int,
        candidates: list[Batch],
        held: set[int],
        probes: list[Batch | None],
    ) -> list[tuple[Batch, Issuer, SignedAnchor]] | Resume:
        """Each candidate's anchor signed by its body's key, oldest first (the outbox of every
        candidate read at once); a resumable transaction instead when one is found. A body
        whose key cannot sign is held (added to ``held``)."""
        outbox = self.store.outbox_of_batches([b.id for b in candidates])
        signed: list[tuple[Batch, Issuer, SignedAnchor]] = []
        for batch in sorted(candidates, key=lambda b: b.id):
            issuer = self.bodies.of(batch)
            if issuer is None or (issuer.id in held and batch not in probes):
                continue
            sent = outbox[batch.id]
            if (resume := self.resumable(batch, sent)) is not None:
                return resume
            # A batch no transaction ever carried is not on chain: no read of the registry for
            # it (the preflight below still says so if a store restored from a backup forgot).
            if sent and self._on_chain(w3, registry, batch, issuer):
                continue
            try:
                signer = self.bodies.signer(issuer)
            except ConfigError as e:
                log.error("issuing body %d: %s", issuer.id, e, extra={"issuer": issuer.id})
                self._refused(batch, issuer, "keystore", FailureCause.KEYSTORE)
                held.add(issuer.id)
                continue
            if signer is None:  # its keystore is being decrypted: the next steps take it
                held.add(issuer.id)
                continue
            item = sign_anchor(
                signer, self.chain_id, registry.address, batch.root, batch.leaf_count, relayer,
                deadline,
            )  # fmt: skip
            signed.append((batch, issuer, item))
        return signed

    def _fit(
        self,
        registry: Registry,
        relayer: str,
        deadline: int,
        items: list[tuple[Batch, SignedAnchor]],
    ) -> Payload | None:
        """The relayed call of as many items as fit under the gas cap."""
        while items:
            data = "0x" + anchor_signed_data(deadline, [item.as_tuple() for _, item in items]).hex()
            call = {"from": relayer, "to": registry.address, "data": data}
            try:
                cap = self.relay_gas_cap * 4 // 5  # what the margin below keeps under the cap
                estimate = self.gas.gas_of(registry.w3, call, len(items), cap)
            except (ContractCustomError, ContractLogicError) as e:
                name, _ = revert_cause(e)
                log.error("the relayed anchors would revert together: %s", name)
                self.relayer_holds.hold(FailureCause.REVERTED, None)
                return None
            gas = estimate + estimate // 4
            if gas <= self.relay_gas_cap:
                return Payload(tuple(b for b, _ in items), data, gas)
            if len(items) == 1:
                self.relayer_holds.hold(FailureCause.GAS_LIMIT, items[0][0])
                return None
            items = items[: max(1, len(items) * self.relay_gas_cap // gas)]
        return None

    # -- direct --------------------------------------------------------------------------------

    def direct(
        self, w3: Any, registry: Registry, issuer: Issuer, sender: str
    ) -> Payload | Resume | None:
        """The body's next own ``anchor`` transaction, or None when nothing can go out now."""
        batch = self.store.next_batch_for_submission(issuer.id)
        while batch is not None:
            if (resume := self.resumable(batch)) is not None:
                return resume
            if self._on_chain(w3, registry, batch, issuer):
                return None  # it may still wait for depth: stop here this step
            holds = self.bodies.holds(issuer.id)
            try:
                gas = registry.contract.functions.anchor(batch.root, batch.leaf_count).estimate_gas(
                    {"from": sender}
                )
            except (ContractCustomError, ContractLogicError) as e:
                name, cause = revert_cause(e)
                if cause is None:
                    return None
                self._refused(batch, issuer, name, cause)
                if cause.permanent:
                    batch = self.store.next_batch_for_submission(issuer.id)
                    continue
                return None
            if gas > self.gas_limit:
                holds.hold(FailureCause.GAS_LIMIT, batch)
                return None
            holds.preflight_passed()
            data = registry.contract.encode_abi("anchor", args=[batch.root, batch.leaf_count])
            return Payload((batch,), data, self.gas_limit)
        return None


def _preflight_all(
    w3: Any, registry: Registry, relayer: str, deadline: int, items: list[SignedAnchor]
) -> list[bool]:
    """Replay each anchor alone (``eth_call`` of ``anchorSigned([it])`` from the relayer), all
    in ONE JSON-RPC batch request: True for each that passes. False for one the node refused,
    and for all of them when the node answers no batch: the caller replays those one by one,
    which says why (a revert and its cause, or an error of the node)."""
    if not items:
        return []
    calls = [
        (
            "eth_call",
            [
                {
                    "from": relayer,
                    "to": registry.address,
                    "data": "0x" + anchor_signed_data(deadline, [item.as_tuple()]).hex(),
                },
                "latest",
            ],
        )
        for item in items
    ]
    try:
        answers = w3.provider.make_batch_request(calls)
    except (AttributeError, NotImplementedError, TypeError, ValueError):
        return [False] * len(items)  # a provider without batches
    if not isinstance(answers, list) or len(answers) != len(items):
        return [False] * len(items)  # one error for the whole batch: no batch support
    return [isinstance(a, dict) and "error" not in a and "result" in a for a in answers]
