"""Liveness and a minimal readiness, public: ``ok`` or ``unavailable``, never why.

The reasons go to the log, and to the internal port's `/readyz` (`api.routes.internal`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from anchor.chain.reader import ChainReader
from anchor.errors import AnchorError
from anchor.store import Store
from api.deps import ChainDep, StoreDep
from api.schemas import HealthOut, ReadyOut

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])

UNAVAILABLE = "unavailable"
NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"model": ReadyOut, "description": "The store or the chain is unreachable"}
}


def readiness(store: Store, chain: ChainReader) -> ReadyOut:
    """Query the store and read the chain; each says ``ok`` or why not (also logged)."""
    states: dict[str, str] = {}
    for name, probe in (("store", store.pending_count), ("chain", chain.block_number)):
        try:
            probe()
            states[name] = "ok"
        except AnchorError as e:
            log.warning("not ready: the %s failed: %s", name, e)
            states[name] = str(e)
    ready = all(state == "ok" for state in states.values())
    return ReadyOut(
        status="ready" if ready else "unavailable", store=states["store"], chain=states["chain"]
    )


def answer(out: ReadyOut) -> ReadyOut | JSONResponse:
    if out.status == "ready":
        return out
    return JSONResponse(out.model_dump(), status_code=503)


@router.get("/healthz", response_model=HealthOut, summary="The process is alive")
def healthz() -> HealthOut:
    """Always ``ok`` while the process serves requests."""
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    response_model=ReadyOut,
    responses=NOT_READY,
    summary="The store and the chain can be reached",
)
def readyz(store: StoreDep, chain: ChainDep) -> ReadyOut | JSONResponse:
    """``ready`` when a store query and a chain read both succeed; else 503 saying which.

    Each of ``store`` and ``chain`` is ``ok`` or ``unavailable``; the reason is in the log and
    on the internal port's `/readyz`.
    """
    out = readiness(store, chain)
    return answer(ReadyOut(status=out.status, store=_plain(out.store), chain=_plain(out.chain)))


def _plain(state: str) -> str:
    return state if state == "ok" else UNAVAILABLE
