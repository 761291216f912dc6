"""The one chain client: no web3 retries, a timeout per call, PoA at layer 0, failover."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from web3 import Web3

from anchor.chain.client import (
    ChainClient,
    NodeUnusableError,
    NoUsableNodeError,
    make_web3,
)
from anchor.chain.devchain import Anvil
from anchor.chain.reader import ChainReader
from anchor.settings import load_settings
from tests.support.rpc_proxy import RecordingProxy

pytestmark = pytest.mark.chain


class _Failing(BaseHTTPRequestHandler):
    hits = 0

    def do_POST(self) -> None:
        type(self).hits += 1
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(503)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def failing_node() -> Iterator[str]:
    """A node that answers every request with HTTP 503."""
    _Failing.hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_make_web3_policy() -> None:
    w3 = make_web3("http://127.0.0.1:9", poa=True, timeout=3)
    provider: Any = w3.provider
    assert provider.exception_retry_configuration is None
    assert provider.get_request_kwargs()["timeout"] == 3
    # Layer 0 is the innermost layer, the last of the onion; a QBFT block then parses
    # (tests/service/test_startup.py::test_qbft_block_needs_the_poa_middleware).
    plain = [name for _, name in make_web3("http://x").middleware_onion.middleware]
    layers = [name for _, name in w3.middleware_onion.middleware]
    assert layers[:-1] == plain and layers[-1] not in plain


def test_a_failing_node_is_asked_once_then_passed_over(failing_node: str, anvil: Anvil) -> None:
    client = ChainClient([failing_node, anvil.url], 31337, timeout=2)
    assert client.read(lambda w3: int(w3.eth.chain_id)) == 31337
    assert _Failing.hits == 1  # no automatic retry of the failed request
    assert client.url == anvil.url


def test_a_reading_fails_over_and_names_every_node(anvil: Anvil) -> None:
    with Anvil(chain_id=999, accounts=1) as other, RecordingProxy(anvil.url) as proxy:
        client = ChainClient([proxy.url, anvil.url], 31337, timeout=2)

        def behind_on_the_proxy(w3: Web3) -> str:
            url = str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]
            if url == proxy.url:
                raise NodeUnusableError("is at block 1, before the anchoring block 9")
            return url

        assert client.read(behind_on_the_proxy) == anvil.url
        assert client.rpc_urls == [anvil.url, proxy.url]  # the failed node went last
        dead = ChainClient(["http://127.0.0.1:9", other.url], 31337, timeout=2)
        with pytest.raises(NoUsableNodeError) as caught:
            dead.read(lambda w3: w3.eth.block_number)
    reasons = [(f.url, f.reason) for f in caught.value.failures]
    assert reasons[0][0] == "http://127.0.0.1:9" and "did not answer" in reasons[0][1]
    assert reasons[1] == (other.url, "is on chain 999, not 31337")
    assert str(caught.value).startswith("the chain cannot be reached now: node 1 did not answer")


def test_the_api_reader_uses_the_public_urls(anvil: Anvil) -> None:
    worker_only = load_settings(rpc_urls=["http://127.0.0.1:9"])
    public = load_settings(rpc_urls=["http://127.0.0.1:9"], public_rpc_urls=[anvil.url])
    assert ChainReader(worker_only).client.rpc_urls == ["http://127.0.0.1:9"]
    assert ChainReader(public).block_number() >= 0
    assert ChainClient.from_settings(public).rpc_urls == ["http://127.0.0.1:9"]
