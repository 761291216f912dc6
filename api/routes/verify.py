"""Public verification of a proof bundle or a verification URL.

The bundle is checked against the registries of the API's settings (`Settings.trust_list`),
never against the one it names, through the process's one public chain client, whose registry
readings are reused for ``ANCHOR_REGISTRY_CACHE_TTL`` seconds.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from anchor.verify import verify_bundle
from api.deps import ChainDep, public_limit
from api.errors import error_responses
from api.schemas import BodyOut, CheckOut, Language, RevocationOut, VerdictOut, VerifyRequest

router = APIRouter(prefix="/v1", tags=["verification"])


@router.post(
    "/verify",
    response_model=VerdictOut,
    responses=error_responses(413, 429),
    dependencies=[Depends(public_limit("verify"))],
    summary="Verify a proof bundle or a verification URL (public)",
)
def verify(
    body: VerifyRequest,
    chain: ChainDep,
    lang: Annotated[
        Language, Query(description="Language of the body's names (fr fallback)")
    ] = "fr",
) -> VerdictOut:
    """The verifier's verdict, the issuing body as the registry names it, and every check.

    ``valid``, ``invalid``, or ``indeterminate`` when the chain cannot be read now (an outage
    is never reported as invalid). The bundle's ``issuerName`` is ignored. A malformed bundle or
    URL is 422, naming the field.
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
    shown = verdict.to_dict(lang)
    return VerdictOut(
        verdict=verdict.outcome,
        lang=lang,
        issuer_name=shown["issuerName"],
        issuer_name_now=shown["issuerNameNow"],
        body=BodyOut.model_validate(shown["body"]) if verdict.body is not None else None,
        authorised=verdict.authorised,
        revocations=[RevocationOut.model_validate(r) for r in shown["revocations"]],
        issuer=verdict.issuer,
        anchored_at=verdict.anchored_at,
        anchored_at_text=shown["anchoredAtText"],
        chain_id=verdict.chain_id,
        checks=[CheckOut(**asdict(c)) for c in verdict.checks],
    )
