"""Public: the document types the page reads labels and legal notices from (minimal version).

The page fetches the whole list, never one type, so the server is not told which type a citizen
checks. Each type is its file as loaded by `anchor.proof.doctypes.load_types` (the shipped ones
and ``ANCHOR_DOCTYPES_DIR``'s), with the private facts' names only.

This is the page's minimal version; the intake branch (docs-intake) owns the route's full form.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Response

from anchor.proof.doctypes import load_types
from api.deps import SettingsDep

router = APIRouter(prefix="/v1/document-types", tags=["verification"])
CACHE_CONTROL = "public, max-age=300"


@functools.cache
def _listed(extra_dir: Path | None) -> list[dict[str, Any]]:
    """The types as the page reads them, loaded once per folder."""
    types = []
    for doctype in load_types(extra_dir).values():
        data = doctype.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["privateFacts"] = [f.name for f in doctype.private_facts]
        types.append(data)
    return types


@router.get("", summary="Every known document type, with labels and notices (public)")
def list_document_types(settings: SettingsDep, response: Response) -> dict[str, Any]:
    """``{"types": [...]}``: id, version, labels, facts (name, kind, labels), private fact
    names, the validity-end fact and the legal notice, in French, German and English."""
    response.headers["Cache-Control"] = CACHE_CONTROL
    return {"types": _listed(settings.doctypes_dir)}
