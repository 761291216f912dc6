"""Public: what the registry says of a root (the citizens' page asks this, across origins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from anchor.chain.registry import Revocation
from anchor.store import NotFoundError
from api.deps import ChainDep, SettingsDep, public_limit
from api.errors import error_responses
from api.schemas import EXAMPLE_ROOT, RevocationOut, RootOut

router = APIRouter(
    prefix="/v1/roots", tags=["verification"], dependencies=[Depends(public_limit("roots"))]
)

_HEX32 = r"^0x[0-9a-fA-F]{64}$"


def _revocation(r: Revocation | None) -> RevocationOut | None:
    if r is None:
        return None
    return RevocationOut(revoked_at=r.revoked_at, reason=r.reason, revoked_by=r.revoked_by.lower())


@router.get(
    "/{root}",
    response_model=RootOut,
    responses=error_responses(404, 429, 503),
    summary="What the registry says of a root (public)",
)
def read_root(
    root: Annotated[
        str,
        Path(pattern=_HEX32, description="Merkle root, 0x + 64 hex", examples=[EXAMPLE_ROOT]),
    ],
    chain: ChainDep,
    settings: SettingsDep,
    leaf: Annotated[
        str | None,
        Query(pattern=_HEX32, description="Also report this document's revocation"),
    ] = None,
) -> RootOut:
    """Issuer, time, leaf count, authorisation and revocations of an anchored root.

    404 when the root was never anchored; 503 when the chain cannot be reached now.
    """
    root_bytes = bytes.fromhex(root[2:])
    leaf_bytes = bytes.fromhex(leaf[2:]) if leaf else None
    reading = chain.read_root(root_bytes, leaf_bytes)
    if reading is None:
        raise NotFoundError(f"the root {root.lower()} was never anchored in this registry")
    facts = reading.facts
    return RootOut(
        root=root.lower(),
        anchored=True,
        issuer=facts.issuer,
        issuer_name=facts.issuer_name,
        anchored_at=facts.anchored_at,
        leaf_count=facts.leaf_count,
        issuer_authorised_at_anchor=reading.issuer_authorised_at_anchor,
        root_revocation=_revocation(reading.root_revocation),
        document_revocation=_revocation(reading.document_revocation),
        chain_id=settings.chain_id,
        registry=chain.registry_address.lower(),
    )
