"""Typed documents: submit a document's type and facts; its proof is a version 2 bundle."""

from __future__ import annotations

from fastapi import APIRouter, status

from anchor.service.documents import submit_document
from anchor.types import Digest
from api.deps import SettingsDep, StoreDep, SubmitterDep
from api.document_schemas import DocumentReceiptOut, DocumentRequest
from api.errors import AUTH_ERRORS, error_responses
from api.routes.doctypes import types_of
from api.routes.receipts import IdempotencyKey

router = APIRouter(prefix="/v1/documents", tags=["receipts"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DocumentReceiptOut,
    responses=error_responses(*AUTH_ERRORS, 409, 413, 503),
    summary="Submit a typed document: its type, file digest and facts",
)
def submit_typed(
    body: DocumentRequest,
    store: StoreDep,
    settings: SettingsDep,
    principal: SubmitterDep,
    idempotency_key: IdempotencyKey = None,
) -> DocumentReceiptOut:
    """Check the facts against the type, commit the receipt and its facts, answer 202.

    The receipt's digest is the document's statement digest (type, facts, file digest,
    private commitment); once anchored, ``GET /v1/receipts/{id}`` returns its version 2 proof
    and a ``#v2.`` verification URL. Retrying with the same Idempotency-Key and the same
    document returns the same receipt; other content under that key is 409.
    """
    receipt, doctype = submit_document(
        store,
        types_of(settings),
        body.type,
        body.facts,
        body.private,
        None if body.digest is None else Digest.from_hex(body.digest),
        principal.integrator_id,
        idempotency_key,
        issuer_id=principal.issuer_id,
    )
    return DocumentReceiptOut(
        id=receipt.id,
        digest=receipt.digest.hex if receipt.digest else None,
        status=receipt.state,
        type=doctype.id,
        type_version=doctype.version,
    )
