"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from anchor.errors import AnchorError
from api.deps import ChainDep, StoreDep
from api.errors import error_responses
from api.metrics import ApiMetrics
from api.schemas import HealthOut, ReadyOut

router = APIRouter(tags=["operations"])

METRICS_EXAMPLE = (
    "# HELP anchor_pending_digests Digests taken but not yet in a batch\n"
    "# TYPE anchor_pending_digests gauge\nanchor_pending_digests 3.0\n"
)


class PrometheusResponse(PlainTextResponse):
    """The Prometheus text exposition format."""

    media_type = "text/plain; version=0.0.4"


@router.get("/healthz", response_model=HealthOut, summary="The process is alive")
def healthz() -> HealthOut:
    """Always ``ok`` while the process serves requests."""
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    response_model=ReadyOut,
    responses={503: {"model": ReadyOut, "description": "The store or the chain is unreachable"}},
    summary="The store and the chain can be reached",
)
def readyz(store: StoreDep, chain: ChainDep) -> ReadyOut | JSONResponse:
    """``ready`` when a store query and a chain read both succeed; else 503 saying which."""
    try:
        store.pending_count()
        store_state = "ok"
    except AnchorError as e:
        store_state = str(e)
    try:
        chain.block_number()
        chain_state = "ok"
    except AnchorError as e:
        chain_state = str(e)
    ready = store_state == chain_state == "ok"
    out = ReadyOut(status="ready" if ready else "unavailable", store=store_state, chain=chain_state)
    if ready:
        return out
    return JSONResponse(out.model_dump(), status_code=503)


@router.get(
    "/metrics",
    response_class=PrometheusResponse,
    response_model=str,
    responses={
        200: {"content": {"text/plain": {"example": METRICS_EXAMPLE}}},
        **error_responses(503),
    },
    summary="Prometheus metrics",
)
def metrics(request: Request, store: StoreDep) -> PrometheusResponse:
    """Request counts and latency by route, the backlog of unanchored digests and its age."""
    api_metrics: ApiMetrics = request.app.state.metrics
    return PrometheusResponse(api_metrics.scrape(store))
