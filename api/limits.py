"""Request body caps: a declared Content-Length past the cap is refused at once (413), and a
body streamed past it is cut off while it is read (Starlette's limiter, per path)."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


def may_have_body(scope: Scope) -> bool:
    """False when the request has no body: neither ``Transfer-Encoding`` nor a non-zero
    ``Content-Length`` (RFC 9112 6.3: such a request's body is empty), as for most GETs."""
    for raw, value in scope.get("headers", ()):
        name = raw.lower()
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


class BodyLimit:
    """Cap request bodies at ``default`` bytes, or at ``per_path[path]`` for those paths."""

    def __init__(self, app: ASGIApp, default: int, per_path: Mapping[str, int]) -> None:
        """Wrap ``app``."""
        self.app = app
        self.default = default
        self.per_path = dict(per_path)
        self._limited = {
            limit: RequestBodyLimitMiddleware(app, max_body_size=limit)
            for limit in {default, *self.per_path.values()}
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an over-long declared body; limit the streamed one."""
        if scope["type"] != "http" or not may_have_body(scope):
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(str(scope.get("path", "")), self.default)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            response = JSONResponse(
                {"detail": f"the request body is larger than the limit of {limit} bytes"},
                status_code=413,
            )
            await response(scope, receive, send)
            return
        await self._limited[limit](scope, receive, send)
