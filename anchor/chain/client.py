"""The one chain client of the package: its timeout, retry, PoA and failover policy.

Every part of anchor that speaks JSON-RPC (the worker's submitter and watcher, the API's reader,
the verifier) builds its `Web3` with `make_web3` and reaches the nodes through a `ChainClient`.
The policy, chosen once:

* **Timeout**: every HTTP request to a node is bounded by ``timeout`` seconds (connect and read,
  ``ANCHOR_RPC_TIMEOUT``, ``anchor verify --timeout``); nothing waits longer on one node.
* **No automatic retries**: web3's own retry of failed requests is off
  (``exception_retry_configuration=None``). A node that fails once is passed over at once; a
  retry on the same node would only multiply the timeout.
* **Failover**: the client is bound to the first URL, in the configured order, whose node
  answers ``eth_chainId`` with the expected chain id. `ChainClient.read` runs one reading on the
  current node; on a transport failure (or `NodeUnusableError`: the node lags behind, fails in the
  middle) it moves to the next URL and runs the whole reading again there, trying each URL at
  most once per reading. The failed URL goes to the end of the list. When every URL failed the
  reading raises `NoUsableNodeError`, which names each node and why it was passed over. A revert
  or a malformed answer from a node of the right chain is an answer, never a reason to fail over.
* **Chain id**: checked when a node is bound. web3 would otherwise ask ``eth_chainId`` again
  before every ``eth_call``; each provider caches that one answer (web3 keys its cache by
  thread, so a thread pool asks it once per thread).
* **PoA**: on a proof-of-authority network (Besu QBFT, Clique) blocks carry more than 32 bytes of
  extraData, which web3.py accepts only with `ExtraDataToPOAMiddleware` injected at layer 0:
  ``poa=True`` (``ANCHOR_POA``, ``anchor verify --poa``).

`check_registry` refuses a registry with no code or another interface version, with one clear
sentence each; the worker calls it at start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import requests
from web3 import Web3
from web3._utils.rpc_abi import RPC
from web3.exceptions import BadFunctionCallOutput, ContractLogicError, Web3Exception
from web3.middleware import ExtraDataToPOAMiddleware

from anchor.chain.registry import REGISTRY_VERSION, Registry
from anchor.errors import ChainError, ConfigError
from anchor.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Errors that mean "this node cannot be used now", as opposed to a wrong answer.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.RequestException,
    OSError,
    TimeoutError,
    Web3Exception,
)

#: Answers of a node that speak for the chain: a revert, or output that does not decode.
_ANSWERS: tuple[type[BaseException], ...] = (ContractLogicError, BadFunctionCallOutput)
_MAYBE_TRANSPORT: tuple[type[BaseException], ...] = (ChainError, *TRANSPORT_ERRORS)


class NodeUnusableError(ChainError):
    """This node cannot serve the reading now (it lags behind, or failed half-way): fail over."""


@dataclass(frozen=True, slots=True)
class NodeFailure:
    """One node passed over, and why."""

    url: str
    reason: str


class NoUsableNodeError(ChainError):
    """No configured node could serve the reading; ``failures`` says why, node by node.

    The message numbers the nodes instead of naming their URLs, since it may reach the API's
    clients; `by_url` names them, for operators.
    """

    def __init__(self, chain_id: int, failures: Sequence[NodeFailure]) -> None:
        self.failures = tuple(failures)
        detail = "; ".join(f"node {i} {f.reason}" for i, f in enumerate(self.failures, 1))
        super().__init__(f"the chain cannot be reached now: {detail or 'no RPC URL is configured'}")

    @property
    def by_url(self) -> str:
        """Each node's URL and why it was passed over."""
        text = "; ".join(f"{f.url} {f.reason}" for f in self.failures)
        return text or "no RPC URL is configured"


def make_web3(url: str, *, poa: bool = False, timeout: float = 10.0) -> Web3:
    """Return a web3 client of one node, with the policy of this module (see its docstring)."""
    provider = Web3.HTTPProvider(
        url,
        request_kwargs={"timeout": timeout},
        exception_retry_configuration=None,
        cache_allowed_requests=True,
        cacheable_requests={RPC.eth_chainId},
        request_cache_validation_threshold=None,
    )
    w3 = Web3(provider)
    if poa:
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


def is_transport_failure(error: BaseException) -> bool:
    """True when ``error`` means the node could not be used, not that it answered."""
    if isinstance(error, NodeUnusableError):
        return True
    if isinstance(error, _ANSWERS):
        return False
    if isinstance(error, TRANSPORT_ERRORS):
        return True
    cause = error.__cause__
    return isinstance(error, ChainError) and cause is not None and is_transport_failure(cause)


def describe_failure(error: BaseException) -> str:
    """A short phrase for a node that failed: ``did not answer (ReadTimeout: ...)``."""
    if isinstance(error, NodeUnusableError):
        return str(error)
    cause = error.__cause__ if isinstance(error, ChainError) and error.__cause__ else error
    text = str(cause).splitlines()[0] if str(cause) else ""
    name = type(cause).__name__
    return f"did not answer ({name}: {text[:120]})" if text else f"did not answer ({name})"


class ChainClient:
    """The nodes of one chain behind one failover policy; safe to share between threads."""

    def __init__(
        self, rpc_urls: Sequence[str], chain_id: int, *, poa: bool = False, timeout: float = 10.0
    ) -> None:
        """Reach ``chain_id`` through ``rpc_urls``, in order; nothing is connected yet."""
        self.rpc_urls = list(rpc_urls)
        self.chain_id = chain_id
        self.poa = poa
        self.timeout = timeout
        self._w3: Web3 | None = None
        self._url: str | None = None
        self._lock = threading.RLock()

    @classmethod
    def from_settings(cls, settings: Settings, *, public: bool = False) -> ChainClient:
        """The worker's client (``ANCHOR_RPC_URLS``) or, with ``public``, the public one.

        The public client serves the API's public reads and verifications through
        ``ANCHOR_PUBLIC_RPC_URLS``, which defaults to the worker's URLs.
        """
        urls = settings.verification_rpc_urls if public else settings.rpc_urls
        return cls(urls, settings.chain_id, poa=settings.poa, timeout=settings.rpc_timeout)

    @property
    def url(self) -> str | None:
        """The URL of the node in use, or None when none is bound."""
        return self._url

    def get(self) -> Web3:
        """Return the current node's client, binding the first usable URL if there is none.

        Raises `ChainError` naming every URL tried and why it was passed over (for operators:
        the worker's start-up and logs).
        """
        with self._lock:
            if self._w3 is None:
                try:
                    self._bind(skip=set(), failures=[])
                except NoUsableNodeError as e:
                    raise ChainError(f"no usable RPC node: {e.by_url}") from e
            assert self._w3 is not None
            return self._w3

    def invalidate(self) -> None:
        """Forget the current node after a failure; it moves to the end of the list."""
        with self._lock:
            if self._url in self.rpc_urls:
                self.rpc_urls.remove(self._url)
                self.rpc_urls.append(self._url)
            self._w3 = None
            self._url = None

    def read(self, reading: Callable[[Web3], T]) -> T:
        """Run ``reading`` on the current node, failing over as the module docstring says."""
        failures: list[NodeFailure] = []
        tried: set[str] = set()
        while True:
            with self._lock:
                if self._w3 is None or self._url in tried:
                    self._w3 = None
                    self._bind(skip=tried, failures=failures)
                w3, url = self._w3, self._url
            assert w3 is not None and url is not None
            try:
                return reading(w3)
            except _MAYBE_TRANSPORT as e:
                if not is_transport_failure(e):
                    raise
                log.info("node %s failed during a reading; failing over", url)
                failures.append(NodeFailure(url, describe_failure(e)))
                tried.add(url)
                with self._lock:
                    if self._url == url:
                        self.invalidate()

    def _bind(self, skip: set[str], failures: list[NodeFailure]) -> None:
        """Bind the first URL not in ``skip`` that serves the chain; else NoUsableNodeError.

        Each URL found unusable is added to ``skip`` and its reason to ``failures``.
        """
        for url in list(self.rpc_urls):
            if url in skip:
                continue
            w3 = make_web3(url, poa=self.poa, timeout=self.timeout)
            try:
                found = w3.eth.chain_id
            except TRANSPORT_ERRORS as e:
                failures.append(NodeFailure(url, describe_failure(e)))
                skip.add(url)
                continue
            if found != self.chain_id:
                failures.append(NodeFailure(url, f"is on chain {found}, not {self.chain_id}"))
                skip.add(url)
                continue
            self._w3, self._url = w3, url
            log.info("connected to node %s of chain %s", url, self.chain_id)
            return
        raise NoUsableNodeError(self.chain_id, failures)


def check_registry(w3: Web3, address: str | None) -> Registry:
    """Check that a registry of the expected version is deployed at ``address``."""
    if not address:
        raise ConfigError("ANCHOR_REGISTRY_ADDRESS is not set")
    registry = Registry(w3, address)
    try:
        code = w3.eth.get_code(registry.address)
    except TRANSPORT_ERRORS as e:
        raise ChainError(f"cannot read the code at {registry.address}: {e}") from e
    if len(code) == 0:
        raise ConfigError(f"there is no contract at {registry.address} on chain {w3.eth.chain_id}")
    try:
        version = registry.version()
    except ChainError as e:
        raise ConfigError(f"the contract at {registry.address} is not an AnchorRegistry") from e
    if version != REGISTRY_VERSION:
        raise ConfigError(
            f"the registry at {registry.address} speaks version {version}; "
            f"this service needs {REGISTRY_VERSION}"
        )
    return registry
