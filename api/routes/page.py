"""The citizens' verification page (static; it verifies the proof in the browser)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
PAGE = STATIC_DIR / "verify" / "index.html"

router = APIRouter(tags=["verification"])


@router.get(
    "/verify",
    response_class=FileResponse,
    response_model=None,
    responses={
        200: {
            "content": {"text/html": {"example": "<!doctype html><html lang=fr>…"}},
            "description": "The page; it reads the proof from the URL fragment (#v1.…)",
        }
    },
    summary="The public verification page (target of the QR codes)",
)
def verify_page() -> FileResponse:
    """The page a QR code opens; the proof travels in the fragment, never sent to the server."""
    if not PAGE.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="the verification page is missing")
    return FileResponse(PAGE, media_type="text/html; charset=utf-8")
