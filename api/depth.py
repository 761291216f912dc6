"""Refuse deeply nested JSON before any parser recursion sees it (422).

CPython's JSON decoder recurses once per ``[`` or ``{``. `eth_account` imports `py_ecc`, which
raises the interpreter's recursion limit to 100000, and at that limit ~70,000 nested brackets
overflow the C stack: the process dies, whatever the route. FastAPI decodes a body before any
dependency (authentication included) runs, so the guard sits in the ASGI stack: it reads the
body (already capped by `api.limits.BodyLimit`), measures its nesting outside strings, and
answers 422 past `MAX_JSON_DEPTH`; otherwise it replays the body to the application unchanged.

`create_app` also lowers the recursion limit to `RECURSION_LIMIT` (see there): the guard keeps
the decoder shallow, the limit turns any other runaway recursion into a `RecursionError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection

import numpy as np
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.limits import may_have_body

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects a request body may have (a proof bundle needs 2)."""

RECURSION_LIMIT = 10_000
"""The interpreter's recursion limit while the API runs (py_ecc sets 100000 at import).

At 10,000 the JSON decoder raises `RecursionError` on a 20,000-deep document in the main
thread and in worker threads (8 MiB stacks) instead of overflowing the C stack."""

# A JSON string, or an unterminated one running to the end: matching the unterminated case
# keeps the scan linear (no retry from every later quote).
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_STEP = np.full(256, -1, dtype=np.int32)
_STEP[[ord("["), ord("{")]] = 1


def json_depth(body: bytes) -> int:
    """The deepest nesting of ``[``/``{`` in ``body`` outside strings, as the decoder sees it.

    The bytes are decoded as `json.loads` decodes them (UTF-8, -16 or -32 by the first bytes),
    so a UTF-16 body cannot hide brackets behind bytes that look like quotes. A body that does
    not decode has depth 0: the decoder refuses it before it parses anything.
    """
    try:
        text = body.decode(json.detect_encoding(body), "surrogatepass")
    except UnicodeDecodeError:
        return 0
    skeleton = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode("ascii")
    if not skeleton:
        return 0
    level = np.cumsum(_STEP[np.frombuffer(skeleton, dtype=np.uint8)])
    if level.min() < 0:  # a stray closer does not lower the count below zero
        level -= np.minimum.accumulate(np.minimum(level, 0))
    return int(level.max())


def deeper_than(body: bytes, limit: int) -> bool:
    """Whether ``body`` nests deeper than ``limit`` (`json_depth`), measured only when it could:
    every ``[`` or ``{`` the decoder sees is such a byte in UTF-8, -16 and -32 alike, so a body
    with at most ``limit`` of these bytes is no deeper (the common case, counted in C)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    return json_depth(body) > limit


def _too_deep(limit: int) -> JSONResponse:
    msg = f"the JSON body is nested deeper than {limit} levels"
    return JSONResponse(
        {"detail": [{"loc": ["body"], "msg": msg, "type": "json_depth"}]}, status_code=422
    )


class JsonDepthLimit:
    """Answer 422 to a request body nested deeper than ``limit``; skip ``skip_paths``.

    Every body is measured whatever its declared type: FastAPI decodes a body without a
    Content-Type as JSON too. ``skip_paths`` are the streamed uploads, never decoded as JSON.
    """

    def __init__(
        self, app: ASGIApp, limit: int = MAX_JSON_DEPTH, skip_paths: Collection[str] = ()
    ) -> None:
        """Wrap ``app``."""
        self.app = app
        self.limit = limit
        self.skip_paths = frozenset(skip_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body, measure it, then refuse it or replay it to the application."""
        if (
            scope["type"] != "http"
            or scope.get("path") in self.skip_paths
            or not may_have_body(scope)  # nothing to decode: no need to read and replay
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if deeper_than(body, self.limit):
            await _too_deep(self.limit)(scope, receive, send)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body}], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` first, then defers to ``receive``."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
