"""Connecting to the chain: several RPC URLs with failover, and the start-up checks.

`connect` returns a `Web3` bound to the first URL that answers with the expected chain id;
`check_registry` refuses a registry with no code or another interface version, with one clear
sentence each. On a proof-of-authority network (Besu QBFT, Clique) blocks carry more than 32 bytes
of extraData, which web3.py only accepts with `ExtraDataToPOAMiddleware` injected at layer 0.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import requests
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.middleware import ExtraDataToPOAMiddleware

from anchor.chain.registry import REGISTRY_VERSION, Registry
from anchor.errors import ChainError, ConfigError

log = logging.getLogger(__name__)

#: Errors that mean "this node cannot be used now", as opposed to a wrong answer.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.RequestException,
    OSError,
    TimeoutError,
    Web3Exception,
)


def make_web3(url: str, *, poa: bool = False, timeout: float = 10.0) -> Web3:
    """Return a web3 client of one node, with the PoA middleware when ``poa`` is set."""
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
    if poa:
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


def connect(
    rpc_urls: Sequence[str], chain_id: int, *, poa: bool = False, timeout: float = 10.0
) -> Web3:
    """Return a client of the first node that answers with ``chain_id``.

    Raises `ChainError` naming every URL tried and why it was passed over.
    """
    reasons: list[str] = []
    for url in rpc_urls:
        w3 = make_web3(url, poa=poa, timeout=timeout)
        try:
            found = w3.eth.chain_id
        except TRANSPORT_ERRORS as e:
            reasons.append(f"{url} did not answer ({type(e).__name__})")
            continue
        if found != chain_id:
            reasons.append(f"{url} is on chain {found}, not {chain_id}")
            continue
        return w3
    raise ChainError("no usable RPC node: " + "; ".join(reasons))


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


class FailoverWeb3:
    """Hands out a client of a working node, moving on to the next URL when one fails."""

    def __init__(
        self, rpc_urls: Sequence[str], chain_id: int, *, poa: bool = False, timeout: float = 10.0
    ) -> None:
        self.rpc_urls = list(rpc_urls)
        self.chain_id = chain_id
        self.poa = poa
        self.timeout = timeout
        self._w3: Web3 | None = None
        self._url: str | None = None

    def get(self) -> Web3:
        """Return the current client, connecting (with failover) if there is none."""
        if self._w3 is None:
            self._w3 = connect(self.rpc_urls, self.chain_id, poa=self.poa, timeout=self.timeout)
            self._url = str(self._w3.provider.endpoint_uri)  # type: ignore[attr-defined]
            log.info("connected to %s", self._url)
        return self._w3

    def invalidate(self) -> None:
        """Forget the current client after a transport failure; the next `get` fails over.

        The failed URL moves to the end of the list, so the others are tried first.
        """
        if self._url in self.rpc_urls:
            self.rpc_urls.remove(self._url)
            self.rpc_urls.append(self._url)
        self._w3 = None
        self._url = None
