"""HTTP metrics (requests by route and status, latency) and the backlog gauges at scrape time."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anchor.service.metrics import Metrics
from anchor.store import Store


class ApiMetrics:
    """The service metrics plus the API's own, on one registry per application."""

    def __init__(self, service: Metrics | None = None) -> None:
        """Add the HTTP metrics to ``service``'s registry (a fresh one when None).

        `anchor up` passes the worker's metrics, so that one scrape shows both.
        """
        self.service = service or Metrics(CollectorRegistry())
        registry = self.service.registry
        self.requests = Counter(
            "anchor_http_requests_total",
            "HTTP requests by method, route template and status code",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "anchor_http_request_seconds",
            "HTTP request latency by route template",
            ["route"],
            registry=registry,
        )

    def scrape(self, store: Store) -> bytes:
        """Refresh the backlog gauges from the store and render the text exposition."""
        self.service.pending_digests.set(store.pending_count())
        age = store.oldest_unanchored_age()
        self.service.oldest_unanchored_age.set(age or 0.0)
        return bytes(generate_latest(self.service.registry))


class MetricsMiddleware:
    """Counts every HTTP request by its route template (never the raw path)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        """Wrap ``app``."""
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request and record its status."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        code = 500

        async def recording_send(message: Message) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], route, str(code)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - start)
