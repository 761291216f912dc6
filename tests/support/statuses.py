"""Status-change tests' stack: the app on the env's store, receipts anchored by the real
submitter, the worker's `StatusSender` in process, and a proxy that refuses broadcasts.

`Stack(env, tmp_path)` holds every body's status key in the env's keyring, an API client with a
key of scope status, submit and read of the env's first integrator, and helpers that post
changes, read them back and step the sender until they end. `RefusingProxy` forwards JSON-RPC
to a node but answers ``eth_sendRawTransaction`` with an error: what signs behind it stores
its transactions and never gets one to the chain.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from anchor.chain.client import ChainClient
from anchor.chain.signer import KeystoreSigner
from anchor.service.statuses import StatusSender
from anchor.settings import load_settings
from anchor.store import Store
from anchor.types import ReceiptState
from api.app import create_app
from api.config import ApiSettings
from tests.support.service import Env


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class Stack:
    """The test's chain, store, API client, keys and in-process status sender."""

    def __init__(self, env: Env, tmp_path: Path) -> None:
        self.env = env
        for body in env.bodies:
            env.keyring.add(KeystoreSigner(body.status))
        self.settings = load_settings(
            rpc_urls=[env.node.url], chain_id=31337, registry_address=env.registry.address,
            data_dir=tmp_path, registry_cache_ttl=0,
        )  # fmt: skip
        fast = ApiSettings(rate_per_second=1000, rate_burst=1000)  # the test polls a lot
        self.client = TestClient(create_app(self.settings, env.store, fast))
        store = env.store
        self.key = store.create_api_key(env.integrator, ["status", "submit", "read"])[1]
        self.submitter = env.submitter()
        self.sender = self.sender_on([env.node.url])

    @property
    def store(self) -> Store:
        return self.env.store

    def sender_on(self, urls: list[str]) -> StatusSender:
        return StatusSender(
            ChainClient(urls, 31337, timeout=3), self.env.registry.address, self.store,
            self.env.keyring, self.submitter.config,
        )  # fmt: skip

    def anchored(self, count: int, integrator: int | None = None) -> list[str]:
        """``count`` receipts of one batch, anchored by the real submitter at depth."""
        ids = self.env.take(count, integrator)
        for _ in range(40):
            self.submitter.step()
            self.env.mine()
            receipts = [self.store.get_receipt(i) for i in ids]
            if all(r is not None and r.state is ReceiptState.ANCHORED for r in receipts):
                return ids
        raise AssertionError("the receipts were never anchored")

    def post(self, receipt: str, body: dict[str, Any], key: str | None = None) -> Any:
        return self.client.post(
            f"/v1/receipts/{receipt}/status", json=body, headers=headers(key or self.key)
        )

    def accepted(self, receipt: str, body: dict[str, Any], key: str | None = None) -> str:
        r = self.post(receipt, body, key)
        assert r.status_code == 202, r.text
        answer = r.json()
        assert (answer["receipt"], answer["change"], answer["state"]) == (
            receipt, body["change"], "pending"
        )  # fmt: skip
        return str(answer["id"])

    def refused(self, receipt: str, body: dict[str, Any], detail: str, code: int = 409) -> None:
        r = self.post(receipt, body)
        assert r.status_code == code, r.text
        assert r.json()["detail"] == detail

    def state_of(self, receipt: str, change: str) -> dict[str, Any]:
        r = self.client.get(f"/v1/receipts/{receipt}/status/{change}", headers=headers(self.key))
        assert r.status_code == 200, r.text
        answer: dict[str, Any] = r.json()
        return answer

    def drive(self, *changes: tuple[str, str], sender: StatusSender | None = None) -> None:
        """Step the sender and mine until every (receipt, change) is done or failed."""
        for _ in range(60):
            states = {self.state_of(r, c)["state"] for r, c in changes}
            if states <= {"done", "failed"}:
                return
            (sender or self.sender).step()
            self.env.mine()
        raise AssertionError(f"changes still open: {[self.state_of(r, c) for r, c in changes]}")

    def document(self, receipt: str) -> Any:
        found = self.store.get_receipt(receipt)
        assert found is not None and found.batch_id is not None and found.leaf is not None
        batch = self.store.get_batch(found.batch_id)
        assert batch is not None
        body = next(b for b in self.env.bodies if b.issuer_id == found.issuer_id)
        return self.env.registry.document_state(body.body_id or 0, batch.root, found.leaf)


class RefusingProxy:
    """Forwards JSON-RPC to the node but answers every eth_sendRawTransaction with an error:
    a worker behind it signs and stores its transactions and never gets one to the chain."""

    def __init__(self, upstream: str) -> None:
        proxy = self
        self.refused = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                request = json.loads(body)
                method = request.get("method") if isinstance(request, dict) else None
                if method == "eth_sendRawTransaction":
                    proxy.refused += 1
                    error = {"code": -32000, "message": "the test refuses it"}
                    answer = {"jsonrpc": "2.0", "id": request.get("id"), "error": error}
                    data = json.dumps(answer).encode()
                else:
                    forward = urllib.request.Request(
                        upstream, data=body, headers={"Content-Type": "application/json"}
                    )
                    with urllib.request.urlopen(forward, timeout=30) as reply:
                        data = reply.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
