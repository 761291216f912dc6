"""What the API reads from the chain: root records, anchor facts for proofs, liveness.

`ChainReader` reads through one `anchor.chain.client.ChainClient` (that module's timeout, retry,
PoA and failover policy), connected lazily, never at import or at start-up. Anchor facts of a
root (the body, the key that signed the anchor, the time) never change once final, so they are
cached per root for the proof bundles; what the registry says of a root for the citizens' page
(the body's names and status, authorisation, the root's status) is reused for a few seconds only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound

from anchor.chain.cache import TTLCache
from anchor.chain.client import ChainClient
from anchor.chain.events import anchored_in
from anchor.chain.registry import ChangeKind, DocumentState, Registry, Status, StatusChange
from anchor.errors import ChainError, ConfigError
from anchor.settings import Settings
from anchor.trust import TrustedRegistry

T = TypeVar("T")
CACHE_SIZE = 4096
ZERO_LEAF = bytes(32)


@dataclass(frozen=True, slots=True)
class AnchorFacts:
    """Which body anchored a root, with which key (the bundle's ``issuer``), and when."""

    body_id: int
    issuer: str
    anchored_at: int
    leaf_count: int


@dataclass(frozen=True, slots=True)
class DocumentReading:
    """One document of a root that has a history: its leaf, its state folded, every change.

    ``successor_anchored_at`` is the anchoring time of the successor's root (by the same body)
    when the document is superseded, else None.
    """

    leaf: bytes
    state: DocumentState
    history: tuple[StatusChange, ...]
    successor_anchored_at: int | None = None


@dataclass(frozen=True, slots=True)
class RootReading:
    """What the registry says of a root anchored by a key's body.

    ``status`` is its one ``status`` answer, read with no proof and a zero leaf:
    ``status.included`` and ``status.document`` say nothing here, since the page never sends a
    leaf. ``documents`` instead holds every document of the root with at least one change, by
    leaf, from the registry's one-call ``rootHistory``: the page looks for its own leaf in it,
    so the server learns which batch is checked, never which document. Those leaves are public
    on chain already (``StatusChanged`` events).
    """

    status: Status
    documents: tuple[DocumentReading, ...] = ()


class ChainReader:
    """Reads the registry named in the settings, through the process's public `ChainClient`."""

    def __init__(self, settings: Settings, client: ChainClient | None = None) -> None:
        """Read the chain of ``settings``; nothing is connected until the first call.

        ``client`` defaults to the public one of the settings (``ANCHOR_PUBLIC_RPC_URLS``,
        else ``ANCHOR_RPC_URLS``); the API's verification route reads through the same client
        and the same cache (`cache`, ``ANCHOR_REGISTRY_CACHE_TTL`` seconds).
        """
        self.settings = settings
        self.client = client or ChainClient.from_settings(settings, public=True)
        self.cache: TTLCache[object] = TTLCache(settings.registry_cache_ttl)
        self._lock = threading.Lock()
        self._facts: OrderedDict[tuple[bytes, bytes | None], AnchorFacts] = OrderedDict()

    @property
    def registry_address(self) -> str:
        """The configured registry address, or ConfigError when it is not set."""
        if not self.settings.registry_address:
            raise ConfigError("ANCHOR_REGISTRY_ADDRESS is not set: the registry is unknown")
        return self.settings.registry_address

    def trusted(self) -> tuple[TrustedRegistry, ...]:
        """The registries verifications trust (see `Settings.trust_list`)."""
        return self.settings.trust_list()

    def block_number(self) -> int:
        """The head block number of the chain (readiness probe; never cached)."""
        return self.client.read(lambda w3: int(w3.eth.block_number))

    def anchor_facts(
        self,
        root: bytes,
        block_hash: bytes | None,
        tx_hash: bytes | None = None,
        body_id: int | None = None,
    ) -> AnchorFacts | None:
        """Body, key, time and leaf count of an anchored root; None if not anchored (yet).

        The body is ``body_id`` when the caller knows it, else the one of the registry's
        ``RootAnchored`` event for ``root`` in the transaction ``tx_hash`` (direct, or relayed
        with other bodies' roots). Cached by (root, block hash of the anchoring block): after a
        reorg the root is anchored again in another block, at another time, and is read afresh.
        """
        cached = self.cached_anchor_facts(root, block_hash)
        if cached is not None:
            return cached
        key = (root, block_hash)
        facts = self._with_registry(lambda r: _read_facts(r, root, tx_hash, body_id))
        if facts is not None:
            with self._lock:
                self._facts[key] = facts
                while len(self._facts) > CACHE_SIZE:
                    self._facts.popitem(last=False)
        return facts

    def cached_anchor_facts(self, root: bytes, block_hash: bytes | None) -> AnchorFacts | None:
        """The facts `anchor_facts` read before for (root, block hash), from memory only; None
        when they must be read from the chain (an event loop may call this, never the other)."""
        with self._lock:
            return self._facts.get((root, block_hash))

    def read_root(self, root: bytes, key: str) -> RootReading | None:
        """What the registry says of ``root`` anchored by the body of ``key``; None if not.

        None when ``key`` belongs to no body, or its body never anchored ``root``. A reading is
        reused for ``ANCHOR_REGISTRY_CACHE_TTL`` seconds. No leaf is ever asked for.
        """
        address = self.registry_address
        checksum = Web3.to_checksum_address(key)
        cache_key = ("root", address, root, checksum)
        found = self.cache.get(cache_key)
        if isinstance(found, _Reading):
            return found.reading
        reading = self._with_registry(lambda r: _read_root(r, root, checksum))
        self.cache.put(cache_key, _Reading(reading))
        return reading

    def _with_registry(self, read: Callable[[Registry], T]) -> T:
        """Run ``read`` on the registry, with the client's failover."""
        address = self.registry_address
        return self.client.read(lambda w3: read(Registry(w3, address)))


@dataclass(frozen=True, slots=True)
class _Reading:
    """A cached `read_root` answer (None included: a root never anchored, for a while)."""

    reading: RootReading | None


def _read_facts(
    registry: Registry, root: bytes, tx_hash: bytes | None, body_id: int | None
) -> AnchorFacts | None:
    if body_id is None:
        if tx_hash is None:
            raise ChainError("the body of a root is unknown without its anchoring transaction")
        body_id = _body_of_anchor(registry, root, tx_hash)
        if body_id is None:
            return None
    record = registry.anchor_of(body_id, root)
    if not record.anchored:
        return None
    return AnchorFacts(
        body_id=body_id,
        issuer=str(record.key).lower(),
        anchored_at=record.anchored_at,
        leaf_count=record.leaf_count,
    )


def _body_of_anchor(registry: Registry, root: bytes, tx_hash: bytes) -> int | None:
    """The body that ``tx_hash`` anchored ``root`` for (direct or relayed); None if none."""
    try:  # a transport failure propagates: the client fails over to the next node
        receipt = registry.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
    except TransactionNotFound:
        return None
    bodies = {body for body, r in anchored_in(receipt["logs"], registry.address) if r == root}
    if len(bodies) > 1:
        raise ChainError(f"the transaction anchored the root 0x{root.hex()} for several bodies")
    return bodies.pop() if bodies else None


def _read_root(registry: Registry, root: bytes, key: str) -> RootReading | None:
    status = registry.status(key, root, [], ZERO_LEAF)
    if not status.body_id or not status.anchored_at:
        return None
    return RootReading(status, _documents(registry, status.body_id, root))


def _documents(registry: Registry, body_id: int, root: bytes) -> tuple[DocumentReading, ...]:
    """Every document of (body, root) with a history, folded as the contract folds it.

    One ``rootHistory`` call gives every change of the root in the order made; the root's own
    (leaf zero) are left out here (``status.root_status`` says what counts of them).
    """
    changes: dict[bytes, list[StatusChange]] = {}
    for entry in registry.root_history(body_id, root):
        if entry.leaf != ZERO_LEAF:
            changes.setdefault(entry.leaf, []).append(entry.change)
    found = []
    for leaf in sorted(changes):
        history = changes[leaf]
        state = DocumentState.fold(history)
        successor_at = None
        if state.state == ChangeKind.SUPERSEDED:
            successor = registry.anchor_of(body_id, state.successor_root)
            successor_at = successor.anchored_at if successor.anchored else None
        found.append(DocumentReading(leaf, state, tuple(history), successor_at))
    return tuple(found)
