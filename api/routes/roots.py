"""Public: what the registry says of a root (the citizens' page asks this, across origins).

The page sends the batch root and the key its proof names as issuer, never a leaf: the server
learns which batch (root) is checked, not which document of it (DESIGN.md, "Trust rules").
The route reads the chain (the registry's one-call ``rootHistory``). A superseded document's
successor gets a ``url``, its verification address, only when this service holds the successor's
receipt and its type is posted in public (``"posted": true``, a building permit): a residence
certificate's successor is no one else's business.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from anchor.chain.reader import ChainReader, DocumentReading
from anchor.chain.registry import ChangeKind, StatusChange
from anchor.errors import ChainError
from anchor.settings import Settings
from anchor.store import NotFoundError, ReceiptRead, Store
from anchor.verify.chain import issuing_body
from api.deps import ChainDep, SettingsDep, StoreDep, public_limit
from api.errors import error_responses
from api.routes.doctypes import types_of
from api.schemas import EXAMPLE_ADDRESS, EXAMPLE_ROOT, BodyOut
from api.schemas_roots import (
    ChangeName,
    DocumentOut,
    HistoryEntryOut,
    RootAnswerOut,
    RootStatusOut,
    StateName,
    SuccessorOut,
)

router = APIRouter(
    prefix="/v1/roots", tags=["verification"], dependencies=[Depends(public_limit("roots"))]
)

_HEX32 = r"^0x[0-9a-fA-F]{64}$"
_ADDRESS = r"^0x[0-9a-fA-F]{40}$"


_STATES: dict[ChangeKind, StateName] = {
    ChangeKind.NONE: "active",
    ChangeKind.SUSPENDED: "suspended",
    ChangeKind.REVOKED: "revoked",
    ChangeKind.SUPERSEDED: "superseded",
}
_KINDS: dict[ChangeKind, ChangeName] = {
    ChangeKind.REVOKED: "revoked",
    ChangeKind.SUSPENDED: "suspended",
    ChangeKind.LIFTED: "lifted",
    ChangeKind.SUPERSEDED: "superseded",
    ChangeKind.EXTENDED: "extended",
}
_ZERO32 = bytes(32)


def _hex(value: bytes) -> str | None:
    return None if value == _ZERO32 else "0x" + value.hex()


def _day(until: int) -> str | None:
    """``YYYY-MM-DD`` of a registry ``until`` (00:00 UTC of the last valid day); None for 0.

    A day past 9999-12-31 (the contract takes any whole day) shows as 9999-12-31.
    """
    if not until:
        return None
    try:
        return dt.datetime.fromtimestamp(until, dt.UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return dt.date.max.isoformat()


def _root_status(change: StatusChange) -> RootStatusOut | None:
    """The root's revocation that counts, or None."""
    if not change.revoked:
        return None
    return RootStatusOut(
        kind="revoked",
        reason=change.reason,
        at=change.at,
        actor=str(change.actor).lower(),
        annulled=change.annulled,
    )


def _entry(change: StatusChange) -> HistoryEntryOut:
    return HistoryEntryOut(
        kind=_KINDS[change.kind],
        reason=change.reason,
        at=change.at,
        actor=str(change.actor).lower(),
        annulled=change.annulled,
        valid_until=_day(change.until),
        successor_root=_hex(change.successor_root),
        successor_leaf=_hex(change.successor_leaf),
    )


def _successor_url(
    root: bytes, leaf: bytes, store: Store, chain: ChainReader, settings: Settings
) -> str | None:
    """The successor's verification URL when this service holds its receipt, anchored and not
    erased, and its type is posted in public; None otherwise (and when the chain cannot give
    the anchor's facts now: the rest of the answer still stands)."""
    from api.routes.receipts import _bundle, _url  # the same bundle and URL as GET /v1/receipts

    found = store.receipt_by_leaf(root, leaf)
    if found is None:
        return None
    receipt, batch = found
    facts = store.document_facts(receipt.id)
    if facts is None:
        return None
    doctype = types_of(settings).get((facts.type_id, facts.type_version))
    if doctype is None or not doctype.posted:
        return None
    try:
        bundle = _bundle(ReceiptRead(receipt, batch, facts), chain, settings)
    except ChainError:
        return None
    return None if bundle is None else _url(bundle, settings)


def _document(
    doc: DocumentReading, store: Store, chain: ChainReader, settings: Settings
) -> DocumentOut:
    s = doc.state
    active = s.state == ChangeKind.NONE
    successor = None
    if s.state == ChangeKind.SUPERSEDED and doc.successor_anchored_at is not None:
        successor = SuccessorOut(
            root="0x" + s.successor_root.hex(),
            leaf="0x" + s.successor_leaf.hex(),
            anchored_at=doc.successor_anchored_at,
            url=_successor_url(s.successor_root, s.successor_leaf, store, chain, settings),
        )
    return DocumentOut(
        leaf="0x" + doc.leaf.hex(),
        state=_STATES[s.state],
        reason=s.reason,
        since=None if active else s.since,
        actor=None if active else str(s.actor).lower(),
        valid_until=_day(s.valid_until),
        successor=successor,
        history=[_entry(c) for c in doc.history],
    )


@router.get(
    "/{root}",
    response_model=RootAnswerOut,
    responses=error_responses(404, 429, 503),
    summary="What the registry says of a root anchored by a key's body (public)",
)
def read_root(
    root: Annotated[
        str,
        Path(pattern=_HEX32, description="Merkle root, 0x + 64 hex", examples=[EXAMPLE_ROOT]),
    ],
    key: Annotated[
        str,
        Query(
            pattern=_ADDRESS,
            description="The key the proof names as its issuer (the registry resolves its body)",
            examples=[EXAMPLE_ADDRESS],
        ),
    ],
    chain: ChainDep,
    settings: SettingsDep,
    store: StoreDep,
) -> RootAnswerOut:
    """The body (id, kind, code, names at anchoring and today, status), the anchoring time and
    key, whether the key was authorised then, the root's revocation, and every document of the
    root with a status change, by leaf, with its state, validity end, successor and history (the
    page finds its own there: it never sends a leaf).

    404 when the key belongs to no body or its body never anchored the root; 503 when the
    chain cannot be reached now.
    """
    reading = chain.read_root(bytes.fromhex(root[2:]), key)
    if reading is None:
        raise NotFoundError(
            f"the root {root.lower()} was never anchored in this registry by the body of the key "
            f"{key.lower()}"
        )
    s = reading.status
    return RootAnswerOut(
        root=root.lower(),
        anchored=True,
        key=str(s.key).lower(),
        body=BodyOut.model_validate(issuing_body(s).to_dict()),
        anchored_at=s.anchored_at,
        leaf_count=s.leaf_count,
        authorised=s.authorised,
        root_status=_root_status(s.root_status),
        documents=[_document(d, store, chain, settings) for d in reading.documents],
        chain_id=settings.chain_id,
        registry=chain.registry_address.lower(),
    )
