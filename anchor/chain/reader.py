"""What the API reads from the chain: root records, anchor facts for proofs, liveness.

`ChainReader` reads through one `anchor.chain.client.ChainClient` (that module's timeout, retry,
PoA and failover policy), connected lazily, never at import or at start-up. Anchor facts of a
root (issuer, time, issuer name) never change once final, so they are cached per root for the
proof bundles; a root's status (revocations) is reused for a few seconds only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from anchor.chain.cache import TTLCache
from anchor.chain.client import ChainClient
from anchor.chain.registry import Registry, Revocation
from anchor.errors import ConfigError
from anchor.settings import Settings
from anchor.trust import TrustedRegistry

T = TypeVar("T")
CACHE_SIZE = 4096
ZERO_LEAF = bytes(32)


@dataclass(frozen=True, slots=True)
class AnchorFacts:
    """Who anchored a root and when (block time), with the issuer's display name then."""

    issuer: str
    anchored_at: int
    leaf_count: int
    issuer_name: str | None


@dataclass(frozen=True, slots=True)
class RootReading:
    """Everything the registry says of an anchored root (and optionally one leaf)."""

    facts: AnchorFacts
    issuer_authorised_at_anchor: bool
    root_revocation: Revocation | None
    document_revocation: Revocation | None


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

    def anchor_facts(self, root: bytes, block_hash: bytes | None) -> AnchorFacts | None:
        """Issuer, time and issuer name of an anchored root; None if never anchored.

        Cached by (root, block hash of the anchoring block): after a reorg the root is anchored
        again in another block, at another time, and is read afresh.
        """
        key = (root, block_hash)
        with self._lock:
            cached = self._facts.get(key)
        if cached is not None:
            return cached
        facts = self._with_registry(lambda r: _read_facts(r, root))
        if facts is not None:
            with self._lock:
                self._facts[key] = facts
                while len(self._facts) > CACHE_SIZE:
                    self._facts.popitem(last=False)
        return facts

    def read_root(self, root: bytes, leaf: bytes | None = None) -> RootReading | None:
        """What the registry says of ``root`` (and of ``leaf``); None if never anchored.

        A reading is reused for ``ANCHOR_REGISTRY_CACHE_TTL`` seconds.
        """
        address = self.registry_address
        key = ("root", address, root, leaf)
        found = self.cache.get(key)
        if isinstance(found, _Reading):
            return found.reading
        reading = self._with_registry(lambda r: _read_root(r, root, leaf))
        self.cache.put(key, _Reading(reading))
        return reading

    def _with_registry(self, read: Callable[[Registry], T]) -> T:
        """Run ``read`` on the registry, with the client's failover."""
        address = self.registry_address
        return self.client.read(lambda w3: read(Registry(w3, address)))


@dataclass(frozen=True, slots=True)
class _Reading:
    """A cached `read_root` answer (None included: a root never anchored, for a while)."""

    reading: RootReading | None


def _read_facts(registry: Registry, root: bytes) -> AnchorFacts | None:
    record = registry.anchor_of(root)
    if not record.anchored:
        return None
    name = registry.issuer_name(record.issuer)
    return AnchorFacts(
        issuer=record.issuer.lower(),
        anchored_at=record.anchored_at,
        leaf_count=record.leaf_count,
        issuer_name=name or None,
    )


def _read_root(registry: Registry, root: bytes, leaf: bytes | None) -> RootReading | None:
    status = registry.status(root, [], leaf or ZERO_LEAF)
    if not status.anchored_at:
        return None
    facts = AnchorFacts(
        issuer=status.issuer.lower(),
        anchored_at=status.anchored_at,
        leaf_count=status.leaf_count,
        issuer_name=status.issuer_name or None,
    )
    root_revocation = registry.root_revocation(root) if status.root_revoked_at else None
    leaf_revocation = None
    if leaf is not None and status.leaf_revoked_at:
        leaf_revocation = registry.document_revocation(root, leaf)
    return RootReading(facts, status.issuer_authorised_at_anchor, root_revocation, leaf_revocation)
