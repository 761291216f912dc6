"""The poster of an anchored typed document: a PDF to print and post near the building site.

``GET /v1/receipts/{id}/poster.pdf?size=A4|A3&lang=fr|de|en`` (scope read, the caller's own
receipts only, as ``GET /v1/receipts/{id}``). The QR code carries the same verification URL as
that route's ``verificationUrl``: both are `anchor.proof.compact.verification_url` of the same
bundle and page. The body's kind and name come from the store's record of the receipt's body,
in the poster's language (French when the body has no name in it). 409 before anchoring, and
for a receipt of a bare digest (version 1: it has no facts to show).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from anchor.errors import StoreError
from anchor.poster import (
    Language,
    PageSize,
    Poster,
    PosterFontError,
    PosterLayoutError,
    render_poster,
)
from anchor.proof.bundle import ProofBundleV2
from anchor.store import Receipt
from api.deps import ChainDep, ReaderDep, SettingsDep, StoreDep
from api.errors import AUTH_ERRORS, ReceiptStateHTTPError, error_responses, receipt_state_responses
from api.routes.doctypes import types_of
from api.routes.receipts import ReceiptId, _bundle, _page_url, _receipt
from api.schemas import ReceiptStateError

router = APIRouter(prefix="/v1/receipts", tags=["receipts"])

_ERRORS = error_responses(*AUTH_ERRORS, 404, 503) | receipt_state_responses(409, 410)
_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The poster (PDF, one page)"}
}
_SAFE = re.compile(r"[^A-Za-z0-9]+")


def _conflict(receipt: Receipt, detail: str) -> ReceiptStateHTTPError:
    return ReceiptStateHTTPError(
        status.HTTP_409_CONFLICT,
        ReceiptStateError(detail=detail, id=receipt.id, status=receipt.state),
    )


def file_name(bundle: ProofBundleV2, receipt_id: str, size: str, lang: str) -> str:
    """``poster-<the document's first reference fact, or the receipt id>-A4-fr.pdf``."""
    reference = bundle.facts.get("reference")
    stem = _SAFE.sub("-", reference).strip("-") if reference else ""
    return f"poster-{stem or receipt_id}-{size}-{lang}.pdf"


@router.get(
    "/{receipt_id}/poster.pdf",
    response_class=Response,
    response_model=None,
    responses=_ERRORS | _PDF,
    summary="Poster of an anchored typed document (PDF, A4 or A3)",
)
def poster_pdf(
    receipt_id: ReceiptId,
    store: StoreDep,
    chain: ChainDep,
    settings: SettingsDep,
    principal: ReaderDep,
    size: Annotated[PageSize, Query(description="Paper size, portrait")] = "A4",
    lang: Annotated[Language, Query(description="Language of the poster")] = "fr",
) -> Response:
    """The certificate to post near the site: the body, the document's title and public facts,
    its legal notice, the QR code of its verification URL (error correction Q, 12.4 cm wide on
    A4, 17.5 cm on A3), the verification page's address, and the day the registry recorded it.

    409 while the receipt is not anchored, and for a receipt of a bare digest (no facts).
    """
    found = _receipt(store, receipt_id, principal)
    receipt = found.receipt
    bundle = _bundle(found, chain, settings)
    if bundle is None:
        raise _conflict(
            receipt,
            f"receipt {receipt_id!r} is {receipt.state.value}, not anchored yet: its poster "
            "exists once it is anchored",
        )
    if not isinstance(bundle, ProofBundleV2):
        raise _conflict(
            receipt,
            f"receipt {receipt_id!r} anchors a bare digest, not a typed document: a poster "
            "shows a typed document's facts (submit it with POST /v1/documents)",
        )
    issuer = store.get_issuer(receipt.issuer_id) if receipt.issuer_id is not None else None
    if issuer is None:
        raise StoreError(f"receipt {receipt.id} has no issuing body in the store")
    name = getattr(issuer, f"name_{lang}") or issuer.name_fr
    doctype = types_of(settings).get_type(bundle.type_id, bundle.type_version)
    poster = Poster(bundle, doctype, name, issuer.kind, _page_url(settings))
    try:
        pdf = render_poster(poster, size=size, lang=lang)
    except (PosterFontError, PosterLayoutError) as e:
        raise _conflict(receipt, str(e)) from e
    disposition = f'attachment; filename="{file_name(bundle, receipt.id, size, lang)}"'
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )
