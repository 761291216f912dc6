"""The FastAPI application, built explicitly by `create_app` (no import-time side effects).

Run it with ``uvicorn --factory api.app:create_app``: settings come from the environment
(``ANCHOR_*`` and ``ANCHOR_API_*``), the store from ``settings.resolved_database_url``
(migrated beforehand by the operator), the chain is connected on first use.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from anchor import __version__
from anchor.chain.reader import ChainReader
from anchor.errors import ConfigError
from anchor.service.metrics import Metrics
from anchor.settings import Settings, get_settings
from anchor.store import Store, open_store
from api.config import ApiSettings
from api.depth import RECURSION_LIMIT, JsonDepthLimit
from api.errors import install_error_handlers
from api.headers import SecurityHeaders
from api.internal import InternalServer, create_internal_app
from api.limits import BodyLimit
from api.metrics import ApiMetrics, MetricsMiddleware
from api.ratelimit import RateLimits, parse_limit, per_key_item
from api.routes import (
    docs,
    doctypes,
    documents,
    health,
    page,
    poster,
    receipts,
    roots,
    status,
    verify,
)

DESCRIPTION = """\
Anchor the SHA-256 digests of issued documents on the proof-of-authority registry, then fetch
each document's self-contained proof bundle and QR code. See docs/api.md for a walk-through.

Integrator routes need `Authorization: Bearer <key>` (scopes `submit`, `read`, `status` to
change a document's status on chain; `admin` has them all). Verification routes and the page
are public.
"""

NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's native OpenTelemetry spans, metrics and logs: all off."""

PUBLIC_CORS_PREFIXES = ("/v1/roots/", "/v1/document-types")
UPLOAD_PATH = "/v1/receipts/file"


class PublicCors:
    """CORS for public GETs under some path prefixes only (the page may run on another origin)."""

    def __init__(self, app: ASGIApp, prefix: str | tuple[str, ...]) -> None:
        """Wrap ``app``; only paths under ``prefix`` (one or several) get the CORS headers."""
        self.app = app
        self.prefix = prefix
        self.cors = CORSMiddleware(
            app, allow_origins=["*"], allow_methods=["GET"], expose_headers=["Retry-After"]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route the request through the CORS middleware when its path matches."""
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(self.prefix):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def bound_recursion() -> None:
    """Lower the interpreter's recursion limit to `RECURSION_LIMIT` if an import raised it.

    `py_ecc` (imported by `eth_account`, hence by this module) sets 100000, a depth at which
    C-level recursion overflows the stack before Python notices; at `RECURSION_LIMIT` a runaway
    recursion is a `RecursionError`, answered 500 by the error handler, and the process lives.
    """
    if sys.getrecursionlimit() > RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


def freeze_startup_heap() -> None:
    """Collect once, then move every object alive after start-up (modules, the app, the
    chain's ABI, pydantic's schemas: some 200,000) out of the garbage collector's reach
    (`gc.freeze`). A full collection walks every tracked object: 30-207 ms of a stopped process
    here, the p99 of requests under load (proof GETs while 50 clients submit: 183-208 ms
    before, 68-96 ms after, `bench_stack_cpu.py mixed --seconds 12`, bench/README.md). Objects
    made later are collected as before; `gc.unfreeze` at shutdown gives the frozen ones back
    (an interpreter may build several applications)."""
    gc.collect()
    gc.freeze()


def rate_limits(settings: Settings, api_settings: ApiSettings) -> RateLimits:
    """The limits of `ApiSettings`, counted in Redis when ``settings.redis_url`` is set."""
    return RateLimits(
        per_key=per_key_item(api_settings.rate_per_second, api_settings.rate_burst),
        public={
            "verify": parse_limit(api_settings.verify_limit),
            "roots": parse_limit(api_settings.roots_limit),
        },
        failed_auth=parse_limit(api_settings.failed_auth_limit),
        redis_url=settings.redis_url,
        key_prefix=api_settings.limit_key_prefix,
    )


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    api_settings: ApiSettings | None = None,
    metrics: Metrics | None = None,
) -> FastAPI:
    """Build the application.

    ``metrics``: the service metrics to expose at /metrics with the HTTP ones (the worker's,
    when both run in one process); fresh ones by default. /metrics and the detailed /readyz
    are served on ``settings.internal_port`` (see `api.internal`) while the app runs.

    ``settings`` default to the environment's; ``store`` defaults to the one at
    ``settings.resolved_database_url`` (closed on shutdown; a given store is left open).
    """
    bound_recursion()
    settings = settings or get_settings()
    api_settings = api_settings or ApiSettings()
    owns_store = store is None
    store = store or open_store(
        settings.resolved_database_url, key_pepper=settings.idempotency_pepper()
    )
    if not store.key_hasher.configured:
        raise ConfigError(
            "set ANCHOR_IDEMPOTENCY_PEPPER_FILE: a PostgreSQL store keeps Idempotency-Keys only "
            "as keyed hashes, and every API process needs the same pepper"
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        internal = None
        if settings.internal_port is not None:
            internal = InternalServer(
                create_internal_app(app), settings.internal_host, settings.internal_port
            )
            internal.start()
        freeze_startup_heap()
        try:
            yield
        finally:
            gc.unfreeze()
            if internal is not None:
                internal.stop()
            if owns_store:
                store.close()

    app = FastAPI(
        title="anchor",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by api.routes.docs from vendored files, not from a CDN
        redoc_url=None,
        # No OpenTelemetry here (the service's metrics are Prometheus, `api.metrics`): FastAPI's
        # bridge otherwise asks the global providers about every request, a seventh of the
        # event loop's time under a one-digest submit load (bench/README.md).
        telemetry=NO_TELEMETRY,
    )
    app.state.settings = settings
    app.state.api_settings = api_settings
    app.state.store = store
    app.state.chain = ChainReader(settings)
    app.state.limits = rate_limits(settings, api_settings)
    app.state.metrics = ApiMetrics(metrics)

    install_error_handlers(app)
    app.include_router(receipts.router)
    app.include_router(poster.router)
    app.include_router(documents.router)
    app.include_router(doctypes.router)
    app.include_router(status.router)
    app.include_router(verify.router)
    app.include_router(roots.router)
    app.include_router(health.router)
    app.include_router(page.router)
    app.include_router(docs.router)
    app.mount("/static", StaticFiles(directory=page.STATIC_DIR, check_dir=False), name="static")
    app.add_middleware(JsonDepthLimit, skip_paths={UPLOAD_PATH})
    app.add_middleware(
        BodyLimit,
        default=api_settings.max_json_bytes,
        per_path={UPLOAD_PATH: api_settings.max_upload_bytes},
    )
    app.add_middleware(PublicCors, prefix=PUBLIC_CORS_PREFIXES)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(SecurityHeaders, hsts=settings.public_base_url.startswith("https://"))
    return app
