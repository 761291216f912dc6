"""Public: the document types the service knows (the page decodes version 2 proofs with them).

The page fetches the whole list, never one type: which type a citizen checks is not told to
the server either. Cached by browsers and proxies for five minutes; CORS like ``/v1/roots``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi import APIRouter, Response

from anchor.proof.doctypes import TypeRegistry, load_types
from anchor.settings import Settings
from api.deps import SettingsDep
from api.document_schemas import DocumentTypesOut, type_out
from api.errors import error_responses

router = APIRouter(prefix="/v1/document-types", tags=["verification"])

CACHE_CONTROL = "public, max-age=300"


@functools.cache
def _load(folder: Path | None) -> TypeRegistry:
    return load_types(folder)


def types_of(settings: Settings) -> TypeRegistry:
    """The shipped types and those of ``ANCHOR_DOCTYPES_DIR``, loaded once per folder."""
    return _load(settings.doctypes_dir)


@router.get(
    "",
    response_model=DocumentTypesOut,
    responses=error_responses(503),
    summary="Every document type: labels, notice, facts, validity end (public)",
)
def list_types(settings: SettingsDep, response: Response) -> DocumentTypesOut:
    """Each type as its file defines it (private facts by name only), latest versions too."""
    response.headers["Cache-Control"] = CACHE_CONTROL
    types = types_of(settings)
    return DocumentTypesOut(types=[type_out(types[key]) for key in sorted(types)])
