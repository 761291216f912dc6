"""Receipts: submit digests or a file, read a receipt's status, proof and QR code."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response, status
from starlette.concurrency import run_in_threadpool

from anchor.chain.reader import AnchorFacts, ChainReader
from anchor.errors import ChainError, StoreError
from anchor.proof import compact, qr
from anchor.proof.bundle import ProofBundle
from anchor.service import intake
from anchor.service.proofs import anchor_facts_once, build_bundle, typed_bundle
from anchor.settings import Settings
from anchor.store import NoIssuerError, NotFoundError, Receipt, ReceiptRead, Store
from anchor.types import Digest, ReceiptState
from api.deps import ChainDep, Principal, ReaderDep, SettingsDep, StoreDep, SubmitterDep
from api.errors import (
    AUTH_ERRORS,
    ReceiptStateHTTPError,
    error_responses,
    receipt_state_responses,
)
from api.offload import receipt_read
from api.routes.doctypes import types_of
from api.schemas import ReceiptDetail, ReceiptOut, ReceiptStateError, SubmitRequest, SubmitResponse
from api.upload import OPENAPI_BODY, hash_upload

router = APIRouter(prefix="/v1/receipts", tags=["receipts"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=intake.MAX_KEY_LENGTH,
        description="Retrying with the same key and digests returns the same receipts",
        examples=["order-2026-0042"],
    ),
]
ReceiptId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The receipt id returned at submission",
        examples=["Qm9uam91ciBsZSBtb25kZQ"],
    ),
]
_ERASURE_MEANS = "its digest, salt and proof are deleted for good"
"""What an erasure means for a read of the receipt (a route's 410 says it)."""
_READ_ERRORS = error_responses(*AUTH_ERRORS, 404, 503) | receipt_state_responses(410)
_QR_ERRORS = error_responses(*AUTH_ERRORS, 404, 503) | receipt_state_responses(409, 410)


def _ok(media: str, example: str | None, description: str) -> dict[int | str, dict[str, Any]]:
    content: dict[str, Any] = {} if example is None else {"example": example}
    return {200: {"content": {media: content}, "description": description}}


_PLAIN_IDS = re.compile(r"[A-Za-z0-9_-]*")
"""Receipt ids that JSON takes as they are (`anchor.store.intake.new_receipt_id` makes only
such ids)."""

_RECEIPT_JSON = '{"id":"%s","digest":%s,"status":"%s"}'


def _digest_json(receipt: Receipt) -> str:
    return f'"{receipt.digest.hex}"' if receipt.digest else "null"


def submitted_json(receipts: Sequence[Receipt]) -> bytes:
    """The 202 body of a submission: `SubmitResponse`'s JSON, written out at once. Ids, hex
    digests and state names need no escaping, so the receipts are formatted into the text
    (19 instead of 171 µs for 100 receipts with `json.dumps`, here); an id outside
    ``[A-Za-z0-9_-]`` (none is made) goes through `json.dumps` instead."""
    if not _PLAIN_IDS.fullmatch("".join([r.id for r in receipts])):
        out = [
            {"id": r.id, "digest": r.digest.hex if r.digest else None, "status": r.state.value}
            for r in receipts
        ]
        return json.dumps({"receipts": out}, separators=(",", ":")).encode()
    items = ",".join([_RECEIPT_JSON % (r.id, _digest_json(r), r.state.value) for r in receipts])
    return b'{"receipts":[%s]}' % items.encode()


def _submitted(receipts: list[Receipt]) -> Response:
    """The 202 answer of a submission (`submitted_json`), without a model per receipt."""
    content = submitted_json(receipts)
    return Response(content, status.HTTP_202_ACCEPTED, media_type="application/json")


async def _take(
    store: Store, digests: Sequence[str | Digest], principal: Principal, key: str | None
) -> Response:
    """Queue the digests for the group commit and answer 202 once they are committed.

    No thread is handed the request: the loop awaits the commit's future
    (`anchor.store.group.GroupCommit.submit`).
    """
    if principal.issuer_id is None:
        raise NoIssuerError(principal.integrator_id)
    taking = intake.submit_later(
        store, digests, principal.integrator_id, key, issuer_id=principal.issuer_id
    )
    return _submitted(await taking)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SubmitResponse,
    responses=error_responses(*AUTH_ERRORS, 409, 413, 503),
    summary="Submit digests to anchor",
)
async def submit_digests(
    body: SubmitRequest,
    store: StoreDep,
    principal: SubmitterDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Take 1 to 1,000 SHA-256 digests; they are stored durably before the 202 answer.

    Each receipt is ``pending`` until the batcher puts it in a Merkle tree.
    """
    return await _take(store, body.digests, principal, idempotency_key)


@router.post(
    "/file",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SubmitResponse,
    responses=error_responses(*AUTH_ERRORS, 409, 413, 415, 503),
    openapi_extra=OPENAPI_BODY,
    summary="Submit a file to anchor (only its SHA-256 is kept)",
)
async def submit_file(
    request: Request,
    store: StoreDep,
    principal: SubmitterDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Hash the ``file`` part of a multipart upload as it streams in, then take its digest.

    Nothing of the file is kept; past the upload cap the answer is 413.
    """
    digest = await hash_upload(request)
    return await _take(store, [digest], principal, idempotency_key)


def _receipt(
    store: Store,
    receipt_id: str,
    principal: Principal,
    erased: str = _ERASURE_MEANS,
) -> ReceiptRead:
    """The caller's receipt, its batch and its facts; 404 if unknown or another integrator's,
    410 if erased (the answer says ``erased``: what the erasure means for the route).

    One read transaction of one Core select (`Store.receipt_read`), no ORM objects.
    """
    found = store.receipt_read(receipt_id, principal.integrator_id)
    return _checked(found, receipt_id, erased)


def _checked(
    found: ReceiptRead | None,
    receipt_id: str,
    erased: str = _ERASURE_MEANS,
) -> ReceiptRead:
    """``found`` as `_receipt` answers it: 404 if None, 410 if erased, 503 if inconsistent."""
    if found is None:
        raise NotFoundError(f"no receipt {receipt_id!r}")
    receipt = found.receipt
    if receipt.is_erased:
        raise ReceiptStateHTTPError(
            status.HTTP_410_GONE,
            ReceiptStateError(
                detail=f"receipt {receipt_id!r} was erased on request: {erased}",
                id=receipt.id,
                status=receipt.state,
                erased_at=receipt.erased_at,
            ),
        )
    if receipt.batch_id is not None and found.batch is None:
        raise StoreError(f"receipt {receipt.id} names batch {receipt.batch_id}, which is missing")
    return found


def _bundle(
    found: ReceiptRead, chain: ChainReader, settings: Settings, facts: AnchorFacts | None = None
) -> ProofBundle | None:
    """The proof bundle of an anchored receipt (version 2 for a typed document); None before.

    ``facts``: the anchor's facts when the caller has them, else read (once) from the chain.
    """
    receipt, batch, document, _body = found
    if receipt.state is not ReceiptState.ANCHORED or batch is None:
        return None
    facts = facts or anchor_facts_once(chain, batch, found.body_id)
    if facts is None:
        raise ChainError("the registry does not show this batch's root yet; retry shortly")
    bundle = build_bundle(
        receipt, batch, facts, chain_id=settings.chain_id, registry=chain.registry_address
    )
    return bundle if document is None else typed_bundle(bundle, document, types_of(settings))


async def _bundle_async(
    found: ReceiptRead, chain: ChainReader, settings: Settings
) -> ProofBundle | None:
    """`_bundle` for an async route: built on the loop when the anchor's facts are in memory;
    in the thread pool when the chain must be read (a network call never holds the loop)."""
    batch = found.batch
    cached = None if batch is None else chain.cached_anchor_facts(batch.root, batch.block_hash)
    if cached is None and batch is not None and found.receipt.state is ReceiptState.ANCHORED:
        return await run_in_threadpool(_bundle, found, chain, settings)
    return _bundle(found, chain, settings, cached)


def _url(bundle: ProofBundle, settings: Settings) -> str:
    """The verification URL of a bundle: ``#v1.`` base64url, or ``#v2.`` digits when typed."""
    return compact.verification_url(bundle, _page_url(settings), types_of(settings))


def _page_url(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + "/verify"


@router.get(
    "/{receipt_id}",
    response_model=ReceiptDetail,
    responses=_READ_ERRORS,
    summary="Read a receipt: status, and proof once anchored",
)
async def read_receipt(
    receipt_id: ReceiptId,
    store: StoreDep,
    chain: ChainDep,
    settings: SettingsDep,
    principal: ReaderDep,
) -> ReceiptDetail:
    """Status (pending, batched, submitted, anchored, failed); once anchored, the bundle."""
    read = await receipt_read(store, receipt_id, principal.integrator_id)
    found = _checked(read, receipt_id)
    receipt, batch, _document, _body = found
    bundle = await _bundle_async(found, chain, settings)
    if receipt.digest is None:
        raise StoreError(f"receipt {receipt.id} has no digest but is not erased")
    return ReceiptDetail(
        id=receipt.id,
        digest=receipt.digest.hex,
        status=receipt.state,
        created_at=receipt.created_at,
        issuer_id=receipt.issuer_id,
        root="0x" + batch.root.hex() if batch else None,
        proof=bundle,
        verification_url=_url(bundle, settings) if bundle else None,
    )


@router.delete(
    "/{receipt_id}",
    response_model=ReceiptOut,
    responses=error_responses(*AUTH_ERRORS, 404, 503),
    summary="Erase a receipt on request (GDPR): its digest, salt and proof are deleted",
)
def erase_receipt(receipt_id: ReceiptId, store: StoreDep, principal: SubmitterDep) -> ReceiptOut:
    """Delete the receipt's digest, salt and proof for good; the on-chain root can then no
    longer be linked to the document, while every other proof of its batch still verifies.

    Idempotent: erasing twice answers the same. Reading an erased receipt answers 410.
    """
    receipt = store.erase(receipt_id, principal.integrator_id)
    return ReceiptOut(id=receipt.id, digest=None, status=receipt.state)


def _qr_data(
    receipt_id: str, store: Store, chain: ChainReader, settings: Settings, principal: Principal
) -> str:
    found = _receipt(store, receipt_id, principal)
    receipt = found.receipt
    bundle = _bundle(found, chain, settings)
    if bundle is None:
        raise ReceiptStateHTTPError(
            status.HTTP_409_CONFLICT,
            ReceiptStateError(
                detail=f"receipt {receipt_id!r} is {receipt.state.value}, not anchored yet: "
                "its QR code exists once it is anchored",
                id=receipt.id,
                status=receipt.state,
            ),
        )
    return _url(bundle, settings)


@router.get(
    "/{receipt_id}/qr.png",
    response_class=Response,
    response_model=None,
    responses=_QR_ERRORS | _ok("image/png", None, "QR code (PNG)"),
    summary="QR code of an anchored receipt (PNG)",
)
def qr_png(
    receipt_id: ReceiptId,
    store: StoreDep,
    chain: ChainDep,
    settings: SettingsDep,
    principal: ReaderDep,
) -> Response:
    """A PNG QR code of the verification URL (error correction M); 409 before anchoring."""
    url = _qr_data(receipt_id, store, chain, settings, principal)
    return Response(qr.render_png(url), media_type="image/png")


@router.get(
    "/{receipt_id}/qr.svg",
    response_class=Response,
    response_model=None,
    responses=_QR_ERRORS
    | _ok("image/svg+xml", '<svg xmlns="http://www.w3.org/2000/svg"…', "QR (SVG)"),
    summary="QR code of an anchored receipt (SVG)",
)
def qr_svg(
    receipt_id: ReceiptId,
    store: StoreDep,
    chain: ChainDep,
    settings: SettingsDep,
    principal: ReaderDep,
) -> Response:
    """An SVG QR code of the verification URL (error correction M); 409 before anchoring."""
    url = _qr_data(receipt_id, store, chain, settings, principal)
    return Response(qr.render_svg(url), media_type="image/svg+xml")
