"""The interactive API documentation, Swagger UI from vendored files (never a CDN)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.routes.page import STATIC_DIR

DOCS_PAGE = STATIC_DIR / "docs" / "index.html"

router = APIRouter()


@router.get("/docs", include_in_schema=False, response_class=FileResponse, response_model=None)
def docs() -> FileResponse:
    """Swagger UI over /openapi.json; its scripts and styles come from /static/vendor/."""
    return FileResponse(DOCS_PAGE, media_type="text/html; charset=utf-8")
