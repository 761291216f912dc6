"""Public: what the registry says of a root (the citizens' page asks this, across origins).

The page sends the batch root and the key its proof names as issuer, never a leaf: the server
cannot learn which document of the batch a citizen checks (DESIGN.md, "Trust rules").
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from anchor.chain.registry import StatusChange
from anchor.store import NotFoundError
from anchor.verify.chain import issuing_body
from api.deps import ChainDep, SettingsDep, public_limit
from api.errors import error_responses
from api.schemas import (
    EXAMPLE_ADDRESS,
    EXAMPLE_ROOT,
    BodyOut,
    DocumentStatusOut,
    RootOut,
    StatusChangeOut,
)

router = APIRouter(
    prefix="/v1/roots", tags=["verification"], dependencies=[Depends(public_limit("roots"))]
)

_HEX32 = r"^0x[0-9a-fA-F]{64}$"
_ADDRESS = r"^0x[0-9a-fA-F]{40}$"


def _change(change: StatusChange) -> StatusChangeOut | None:
    """The change as the page reads it; None when there is none (an annulled one is shown)."""
    if not change.revoked and not change.annulled:
        return None
    return StatusChangeOut(
        kind="revoked",
        reason=change.reason,
        at=change.at,
        actor=str(change.actor).lower(),
        annulled=change.annulled,
    )


@router.get(
    "/{root}",
    response_model=RootOut,
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
) -> RootOut:
    """The body (id, kind, code, names at anchoring and today, status), the anchoring time and
    key, whether the key was authorised then, the root's status, and the revoked documents of
    the root by leaf (the page finds its own there: it never sends a leaf).

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
    return RootOut(
        root=root.lower(),
        anchored=True,
        key=str(s.key).lower(),
        body=BodyOut.model_validate(issuing_body(s).to_dict()),
        anchored_at=s.anchored_at,
        leaf_count=s.leaf_count,
        authorised=s.authorised,
        root_status=_change(s.root_status),
        document_statuses=[
            DocumentStatusOut(
                leaf="0x" + leaf.hex(),
                kind="revoked",
                reason=change.reason,
                at=change.at,
                actor=str(change.actor).lower(),
                annulled=change.annulled,
            )
            for leaf, change in reading.documents
        ],
        chain_id=settings.chain_id,
        registry=chain.registry_address.lower(),
    )
