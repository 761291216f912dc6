"""Public verification of a proof bundle or a verification URL.

The bundle is checked against the registries of the API's settings (`Settings.trust_list`),
never against the one it names, through the process's one public chain client, whose registry
readings are reused for ``ANCHOR_REGISTRY_CACHE_TTL`` seconds.
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends

from anchor.verify import verify_bundle
from api.deps import ChainDep, public_limit
from api.errors import error_responses
from api.schemas import CheckOut, VerdictOut, VerifyRequest

router = APIRouter(prefix="/v1", tags=["verification"])


@router.post(
    "/verify",
    response_model=VerdictOut,
    responses=error_responses(413, 429),
    dependencies=[Depends(public_limit("verify"))],
    summary="Verify a proof bundle or a verification URL (public)",
)
def verify(body: VerifyRequest, chain: ChainDep) -> VerdictOut:
    """The verifier's verdict and every check it made.

    ``valid``, ``invalid``, or ``indeterminate`` when the chain cannot be read now (an outage
    is never reported as invalid). A malformed bundle or URL is 422, naming the field.
    """
    bundle = body.to_bundle()
    verdict = verify_bundle(
        bundle,
        trusted=chain.trusted(),
        digest=body.digest,
        client=chain.client,
        cache=chain.cache,
        name_nodes=False,  # the API's node URLs are not the public's business
    )
    return VerdictOut(
        verdict=verdict.outcome,
        issuer_name=verdict.issuer_name,
        issuer=verdict.issuer,
        anchored_at=verdict.anchored_at,
        anchored_at_text=verdict.to_dict()["anchoredAtText"],
        chain_id=verdict.chain_id,
        checks=[CheckOut(**asdict(c)) for c in verdict.checks],
    )
