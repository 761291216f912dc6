"""The internal application's routes: liveness, readiness with reasons, Prometheus metrics.

Served only on the internal port (`api.internal`, ``ANCHOR_INTERNAL_PORT``), for operators.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from api.deps import ChainDep, StoreDep
from api.errors import error_responses
from api.metrics import ApiMetrics
from api.routes.health import NOT_READY, answer, healthz, readiness
from api.schemas import HealthOut, ReadyOut

router = APIRouter(tags=["operations"])
router.get("/healthz", response_model=HealthOut, summary="The process is alive")(healthz)

METRICS_EXAMPLE = (
    "# HELP anchor_pending_digests Digests taken but not yet in a batch\n"
    "# TYPE anchor_pending_digests gauge\nanchor_pending_digests 3.0\n"
)


class PrometheusResponse(PlainTextResponse):
    """The Prometheus text exposition format."""

    media_type = "text/plain; version=0.0.4"


@router.get(
    "/readyz",
    response_model=ReadyOut,
    responses=NOT_READY,
    summary="The store and the chain can be reached, or why not (internal)",
)
def detailed_readyz(store: StoreDep, chain: ChainDep) -> ReadyOut | JSONResponse:
    """``ready``, or 503 with each failure's reason (the driver's message, host, port)."""
    return answer(readiness(store, chain))


@router.get(
    "/metrics",
    response_class=PrometheusResponse,
    response_model=str,
    responses={
        200: {"content": {"text/plain": {"example": METRICS_EXAMPLE}}},
        **error_responses(503),
    },
    summary="Prometheus metrics (internal)",
)
def metrics(request: Request, store: StoreDep) -> PrometheusResponse:
    """Request counts and latency by route, the backlog of unanchored digests and its age."""
    api_metrics: ApiMetrics = request.app.state.metrics
    return PrometheusResponse(api_metrics.scrape(store))
