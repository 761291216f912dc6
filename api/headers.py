"""Security headers on every answer: CSP, nosniff, no referrer, no framing, HSTS over https.

The citizens' page (`/verify`, `/static/…`) gets the policy of its own meta tag plus
``frame-ancestors 'none'``, which a meta tag cannot carry; `/docs` (the vendored Swagger UI)
a policy allowing its own scripts and styles only; every other answer, JSON or an image, one
that allows nothing to load. HSTS is sent when the public base URL is https.
"""

from __future__ import annotations

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
        self._encoded = {
            csp: [(k.encode(), v.encode()) for k, v in self.fixed.items()]
            + [(b"content-security-policy", csp.encode())]
            for csp in (PAGE_CSP, DOCS_CSP, API_CSP)
        }
        self._names = frozenset(k.encode() for k in [*self.fixed, "content-security-policy"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Set the headers on the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ours, names = self._encoded[policy_for(str(scope.get("path", "")))], self._names

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # One pass over the raw list (MutableHeaders scans it once per header set):
                # the route's own values of these names give way to ours.
                kept = [h for h in message.get("headers", ()) if h[0].lower() not in names]
                message["headers"] = kept + ours
            await send(message)

        await self.app(scope, receive, send_with_headers)
