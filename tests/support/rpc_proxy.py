"""A recording JSON-RPC proxy on 127.0.0.1: counts what a client really asks the node.

`RecordingProxy(upstream_url)` forwards every POST body to the node unchanged and records each
JSON-RPC request in it (batches included) as an `RpcCall`; tests count calls per method, or look
for any call that touches an address.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass(frozen=True)
class RpcCall:
    """One JSON-RPC request as the node received it."""

    method: str
    params: Any

    def touches(self, address: str) -> bool:
        """True when ``address`` appears anywhere in the parameters (any case)."""
        return address.lower()[2:] in json.dumps(self.params).lower()


class RecordingProxy:
    """Forward JSON-RPC to ``upstream`` and record every request; a context manager."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.calls: list[RpcCall] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                data = proxy.answer(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The proxy's URL, to give to the client under test."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, body: bytes) -> bytes:
        """Record the request ``body`` and return the node's answer to it (a subclass may
        answer otherwise)."""
        self._record(body)
        request = urllib.request.Request(
            self.upstream, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return bytes(answer.read())

    def _record(self, body: bytes) -> None:
        payload = json.loads(body)
        requests = payload if isinstance(payload, list) else [payload]
        with self._lock:
            self.calls += [RpcCall(r["method"], r.get("params")) for r in requests]

    def reset(self) -> None:
        """Forget the calls recorded so far."""
        with self._lock:
            self.calls.clear()

    def count(self) -> int:
        """How many JSON-RPC requests were recorded."""
        with self._lock:
            return len(self.calls)

    def methods(self) -> list[str]:
        """The methods of the recorded requests, in order."""
        with self._lock:
            return [c.method for c in self.calls]

    def touching(self, address: str) -> list[RpcCall]:
        """The recorded requests whose parameters name ``address``."""
        with self._lock:
            return [c for c in self.calls if c.touches(address)]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
