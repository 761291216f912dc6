"""What the API reads from the chain: root records, anchor facts for proofs, liveness.

`ChainReader` connects lazily (never at import or at start-up) to the first RPC URL that serves
the configured chain id, without web3's automatic retries so a dead node fails fast, and fails
over to the next URL after a transport error. Anchor facts of a root (issuer, time, issuer
name) never change once final, so they are cached per root for the proof bundles.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware

from anchor.chain.client import TRANSPORT_ERRORS
from anchor.chain.registry import Registry, Revocation
from anchor.errors import ChainError, ConfigError
from anchor.settings import Settings

T = TypeVar("T")
CACHE_SIZE = 4096
ZERO_LEAF = bytes(32)
_RETRYABLE: tuple[type[BaseException], ...] = (ChainError, *TRANSPORT_ERRORS)


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
    """Reads the registry named in the settings, through the first usable RPC URL."""

    def __init__(self, settings: Settings) -> None:
        """Read the chain of ``settings``; nothing is connected until the first call."""
        self.settings = settings
        self._registry: Registry | None = None
        self._lock = threading.Lock()
        self._facts: OrderedDict[tuple[bytes, bytes | None], AnchorFacts] = OrderedDict()

    @property
    def registry_address(self) -> str:
        """The configured registry address, or ConfigError when it is not set."""
        if not self.settings.registry_address:
            raise ConfigError("ANCHOR_REGISTRY_ADDRESS is not set: the registry is unknown")
        return self.settings.registry_address

    def block_number(self) -> int:
        """The head block number of the chain (readiness probe)."""
        return self._with_registry(lambda r: int(r.w3.eth.block_number))

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
        """What the registry says of ``root`` (and of ``leaf``); None if never anchored."""
        return self._with_registry(lambda r: _read_root(r, root, leaf))

    def _with_registry(self, read: Callable[[Registry], T]) -> T:
        """Run ``read`` on the registry; after a transport failure, fail over once."""
        address = self.registry_address
        for attempt in range(2):
            registry = self._connected(address)
            try:
                return read(registry)
            except _RETRYABLE as e:
                with self._lock:
                    self._registry = None
                if attempt == 1:
                    if isinstance(e, ChainError):
                        raise
                    raise ChainError(f"the chain could not be read: {type(e).__name__}") from e
        raise AssertionError("unreachable")  # pragma: no cover

    def _connected(self, address: str) -> Registry:
        with self._lock:
            if self._registry is None:
                self._registry = Registry(self._connect(), address)
            return self._registry

    def _connect(self) -> Web3:
        s = self.settings
        reasons: list[str] = []
        for url in s.rpc_urls:
            provider = Web3.HTTPProvider(
                url, request_kwargs={"timeout": s.rpc_timeout}, exception_retry_configuration=None
            )
            w3 = Web3(provider)
            if s.poa:
                w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
            try:
                found = w3.eth.chain_id
            except TRANSPORT_ERRORS as e:
                reasons.append(f"node {len(reasons) + 1} did not answer ({type(e).__name__})")
                continue
            if found != s.chain_id:
                reasons.append(f"node {len(reasons) + 1} is on chain {found}, not {s.chain_id}")
                continue
            return w3
        raise ChainError("the chain cannot be reached now: " + "; ".join(reasons))


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
