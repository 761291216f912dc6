"""A document's status changes: suspend, lift, revoke, supersede, extend (scope ``status``).

``POST /v1/receipts/{id}/status`` checks the request against the store and against the chain's
``documentState`` of the document (and its root's revocation), stores the change (pending)
before answering 202, and leaves the rest to the worker, which signs it with the body's status
key (`anchor.service.statuses`). Every refusal is one sentence: 409 when the change makes no
sense now, 404 for a receipt that is not the caller's, 410 for an erased one, 503 when the
chain cannot be read (nothing is stored then).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Path, status
from web3 import Web3

from anchor.chain.lifecycle import refusal
from anchor.chain.reader import ChainReader
from anchor.chain.registry import DocumentState, Registry
from anchor.store import Batch, ChangePendingError, NotFoundError, Receipt, Store
from anchor.store.statuses import StatusChangeRecord
from anchor.types import ReceiptState, StatusChangeKind
from api.deps import ChainDep, Principal, StatusDep, StoreDep
from api.errors import AUTH_ERRORS, error_responses, receipt_state_responses
from api.routes.receipts import ReceiptId, _receipt
from api.status_schemas import (
    EXAMPLE_CHANGE,
    ExtendRequest,
    RevokeRequest,
    StatusChangeOut,
    StatusRequest,
    SupersedeRequest,
    SuspendRequest,
)

router = APIRouter(prefix="/v1/receipts", tags=["status"])

ChangeId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The change id returned by POST /v1/receipts/{id}/status",
        examples=[EXAMPLE_CHANGE],
    ),
]
_ROOT_LEAF = bytes(32)


def _conflict(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail=detail)


def _out(change: StatusChangeRecord) -> StatusChangeOut:
    return StatusChangeOut(
        id=change.id,
        receipt=change.receipt_id,
        change=change.kind,
        state=change.state,
        reason=change.reason,
        valid_until=change.valid_until,
        successor=change.successor_id,
        error=change.error,
        tx_hash=None if change.tx_hash is None else "0x" + change.tx_hash.hex(),
        block_number=change.block_number,
        created_at=change.created_at,
        updated_at=change.updated_at,
    )


def _anchored(receipt: Receipt, batch: Batch | None, what: str) -> tuple[bytes, bytes]:
    """The (root, leaf) of an anchored receipt; 409 before."""
    if receipt.state is not ReceiptState.ANCHORED or batch is None or receipt.leaf is None:
        raise _conflict(
            f"{what} {receipt.id!r} is {receipt.state.value}, not anchored yet: a document's "
            "status changes once its root is on chain"
        )
    return batch.root, receipt.leaf


def _successor(
    store: Store, receipt: Receipt, successor_id: str, principal: Principal
) -> tuple[bytes, bytes]:
    """The (root, leaf) of the successor: the caller's own anchored receipt, not the document."""
    if successor_id == receipt.id:
        raise _conflict("a document cannot supersede itself: name another receipt as successor")
    found = store.receipt_read(successor_id, principal.integrator_id)
    if found is None or found.receipt.is_erased or found.receipt.issuer_id != receipt.issuer_id:
        raise _conflict(
            f"the successor {successor_id!r} is not a receipt of yours: a document is "
            "superseded by another document of the same body"
        )
    successor, batch, _document, _body = found
    return _anchored(successor, batch, "the successor")


def _chain_state(
    chain: ChainReader, body_id: int, root: bytes, leaf: bytes
) -> tuple[DocumentState, bool]:
    """The document's state folded by the registry, and whether its root is revoked; read now
    (never from a cache), with the reader's failover; ChainError (503) when unreachable."""
    address = chain.registry_address

    def read(w3: Web3) -> tuple[DocumentState, bool]:
        registry = Registry(w3, address)
        state = registry.document_state(body_id, root, leaf)
        revoked = any(c.revoked for c in registry.history_of(body_id, root, _ROOT_LEAF))
        return state, revoked

    return chain.client.read(read)


@router.post(
    "/{receipt_id}/status",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=StatusChangeOut,
    responses=error_responses(*AUTH_ERRORS, 404, 409, 503) | receipt_state_responses(410),
    summary="Change a document's status on chain: suspend, lift, revoke, supersede, extend",
)
def request_status_change(
    receipt_id: ReceiptId,
    body: Annotated[
        StatusRequest,
        Body(
            examples=[
                {"change": "suspend", "reason": 1},
                {"change": "lift"},
                {"change": "revoke", "reason": 5},
                {"change": "supersede", "successor": "7Qm2xPdV0sWcA1b9KfLtZg"},
                {"change": "extend", "validUntil": "2028-03-12"},
            ]
        ),
    ],
    store: StoreDep,
    chain: ChainDep,
    principal: StatusDep,
) -> StatusChangeOut:
    """Store the change durably (202, state ``pending``); the worker sends it with the body's
    status key and follows it to ``done`` (or ``failed``, with the registry's reason).

    409 when it makes no sense now: the receipt is not anchored yet; the document is revoked
    or superseded (or its root revoked); suspend a suspended one; lift one not suspended;
    extend to a day passed or not after the last extension; supersede by a receipt not
    anchored, of another integrator, or itself; a change of that document already pending.
    """
    receipt, batch, _document, _body = _receipt(
        store, receipt_id, principal,
        "its document's status can no longer be changed through the service",
    )  # fmt: skip
    root, leaf = _anchored(receipt, batch, "receipt")
    pending = store.open_status_change_of(receipt.id)
    if pending is not None:
        raise _conflict(str(ChangePendingError(receipt.id, pending.id, pending.kind.value)))
    kind = StatusChangeKind(body.change)
    successor_id = successor_root = successor_leaf = None
    if isinstance(body, SupersedeRequest):
        successor_id = body.successor
        successor_root, successor_leaf = _successor(store, receipt, successor_id, principal)
    issuer = store.get_issuer(receipt.issuer_id) if receipt.issuer_id is not None else None
    if issuer is None or issuer.chain_body_id is None or issuer.id != principal.issuer_id:
        raise _conflict(f"receipt {receipt.id!r} is not anchored under your body's key")
    valid_until = body.valid_until if isinstance(body, ExtendRequest) else None
    state, root_revoked = _chain_state(chain, issuer.chain_body_id, root, leaf)
    why = refusal(kind, state, root_revoked=root_revoked, valid_until=valid_until)
    if why is not None:
        raise _conflict(why)
    reason = body.reason if isinstance(body, SuspendRequest | RevokeRequest) else None
    try:
        change = store.request_status_change(
            receipt.id, issuer.id, kind, reason=reason, valid_until=valid_until,
            successor_id=successor_id, successor_root=successor_root,
            successor_leaf=successor_leaf,
        )  # fmt: skip
    except ChangePendingError as e:  # another request for this document won the race
        raise _conflict(str(e)) from e
    return _out(change)


@router.get(
    "/{receipt_id}/status/{change_id}",
    response_model=StatusChangeOut,
    responses=error_responses(*AUTH_ERRORS, 404, 503),
    summary="Read where a status change stands: pending, sent, done or failed",
)
def read_status_change(
    receipt_id: ReceiptId, change_id: ChangeId, store: StoreDep, principal: StatusDep
) -> StatusChangeOut:
    """The change's state, its transaction once sent, and its error when it failed."""
    change = store.get_status_change(change_id, principal.integrator_id)
    if change is None or change.receipt_id != receipt_id:
        raise NotFoundError(f"no status change {change_id!r} of receipt {receipt_id!r}")
    return _out(change)
