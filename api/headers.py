"""Security headers on every answer: CSP, nosniff, no referrer, no framing, HSTS over https.

The citizens' page (`/verify`, `/static/…`) gets the policy of its own meta tag plus
``frame-ancestors 'none'``, which a meta tag cannot carry; `/docs` (the vendored Swagger UI)
a policy allowing its own scripts and styles only; every other answer, JSON or an image, one
that allows nothing to load. HSTS is sent when the public base URL is https.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""The page's meta policy (api/static/verify/index.html) and ``frame-ancestors 'none'``."""
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"
"""One year, subdomains included (no preload: that is the operator's decision)."""

_COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def policy_for(path: str) -> str:
    """The Content-Security-Policy of the answer at ``path``."""
    if path == "/verify" or path.startswith("/static/"):
        return PAGE_CSP
    if path == "/docs":
        return DOCS_CSP
    return API_CSP


class SecurityHeaders:
    """Add the security headers to every HTTP answer of ``app``."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        """Wrap ``app``; ``hsts``: also send Strict-Transport-Security."""
        self.app = app
        self.fixed = dict(_COMMON) | ({"strict-transport-security": HSTS} if hsts else {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Set the headers on the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = policy_for(str(scope.get("path", "")))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.fixed.items():
                    headers[name] = value
                headers["content-security-policy"] = csp
            await send(message)

        await self.app(scope, receive, send_with_headers)
