"""Request and response bodies of the API, apart from the store's records.

Requests reject unknown fields; responses use the camel-case names of the proof format
(``anchoredAt``, ``leafCount``). Every model carries an example for the OpenAPI document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

from anchor.errors import ProofError
from anchor.proof import compact
from anchor.proof.bundle import ProofBundle, ProofBundleV2, parse_bundle
from anchor.proof.schemas import PROOF_BUNDLE_V1, load_schema
from anchor.types import Digest, InvalidDigestError, ReceiptState
from anchor.verify import Outcome

MAX_DIGESTS = 1000
EXAMPLE_DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
EXAMPLE_ROOT = "0x1b4f0e9851971998e732078544c96b36c3d01cedf7caa332359d6f1d83567014"
EXAMPLE_ADDRESS = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
EXAMPLE_REGISTRY = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
EXAMPLE_ID = "Qm9uam91ciBsZSBtb25kZQ"
Language = Literal["fr", "de", "en"]
MAX_ANCHORED_AT = 253_402_300_799
"""9999-12-31 23:59:59 UTC: the last second a calendar date can show (no block is later)."""


def _digest_value(value: object) -> Digest:
    """Parse a digest once, into the `Digest` the intake takes; say what is wrong otherwise."""
    try:
        return Digest.from_hex(value)
    except InvalidDigestError as e:
        raise ValueError(e.problem) from None


def _digest(value: object) -> str:
    """Normalise a digest to 64 lower-case hex characters; say what is wrong otherwise."""
    return _digest_value(value).hex


_DIGEST_SCHEMA = WithJsonSchema(
    {
        "type": "string",
        "pattern": r"^(0[xX])?[0-9a-fA-F]{64}$",
        "description": "SHA-256 of the document: 64 hex characters, optional 0x, any case",
        "examples": [EXAMPLE_DIGEST],
    }
)

DigestHex = Annotated[str, BeforeValidator(_digest), _DIGEST_SCHEMA]
"""A digest in a model: normalised to 64 lower-case hex characters."""

DigestValue = Annotated[
    Digest, PlainValidator(_digest_value), PlainSerializer(str, return_type=str), _DIGEST_SCHEMA
]
"""A digest of a submission: parsed once, to the `Digest` the intake stores (the same JSON
schema and errors as `DigestHex`)."""


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _response_config(*examples: Any) -> ConfigDict:
    """The configuration of a response model: camelCase JSON, frozen, with OpenAPI examples."""
    return ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        json_schema_extra={"examples": list(examples)},
    )


class _Response(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class SubmitRequest(_Request):
    """Digests to anchor, 1 to 1,000 per request."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"examples": [{"digests": [EXAMPLE_DIGEST]}]},
    )

    digests: list[DigestValue] = Field(min_length=1, max_length=MAX_DIGESTS)


class ReceiptOut(_Response):
    """One receipt: its id, the digest it stands for, and where it stands."""

    model_config = _response_config(
        {"id": EXAMPLE_ID, "digest": EXAMPLE_DIGEST, "status": "pending"}
    )

    id: str
    digest: str | None = Field(description="null once the receipt was erased")
    status: ReceiptState


class SubmitResponse(_Response):
    """The receipts, in the order of the submitted digests."""

    model_config = _response_config(
        {"receipts": [{"id": EXAMPLE_ID, "digest": EXAMPLE_DIGEST, "status": "pending"}]}
    )

    receipts: list[ReceiptOut]


class ReceiptDetail(_Response):
    """A receipt's status and, once anchored, its proof bundle and verification URL."""

    model_config = _response_config(
        {
            "id": EXAMPLE_ID,
            "digest": EXAMPLE_DIGEST,
            "status": "batched",
            "createdAt": "2026-03-03T10:41:00Z",
            "issuerId": 1,
            "root": EXAMPLE_ROOT,
            "proof": None,
            "verificationUrl": None,
        }
    )

    id: str
    digest: str
    status: ReceiptState
    created_at: datetime
    issuer_id: int | None = Field(
        default=None,
        description="The service's id of the issuing body the receipt is anchored for "
        "(`anchor issuers list`); null for a receipt taken before bodies existed",
    )
    root: str | None = Field(default=None, description="Merkle root, once batched")
    proof: Annotated[ProofBundle | ProofBundleV2, Field(discriminator="version")] | None = Field(
        default=None,
        description="Proof bundle, once anchored: version 1, or 2 for a typed document",
    )
    verification_url: str | None = Field(
        default=None, description="URL of the public page that verifies this proof (the QR)"
    )


class ErrorOut(BaseModel):
    """An error: one sentence saying what went wrong and what to do."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"detail": "the chain cannot be reached now"}]}
    )

    detail: str


class ReceiptStateError(BaseModel):
    """An error about a receipt in the wrong state (erased, or not anchored yet)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "detail": "receipt Qm9uam91ciBsZSBtb25kZQ is batched, not anchored yet",
                    "id": EXAMPLE_ID,
                    "status": "batched",
                }
            ]
        },
    )

    detail: str
    id: str
    status: ReceiptState
    erased_at: datetime | None = None


def bundle_json_schema() -> dict[str, Any]:
    """The published proof bundle schema, with its ``$defs`` inlined (for OpenAPI)."""
    schema = load_schema(PROOF_BUNDLE_V1)
    defs = schema.get("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items() if not k.startswith("$")}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    out: dict[str, Any] = inline(schema)
    return out


class VerifyRequest(_Request):
    """A proof to verify: the bundle as JSON, or the verification URL from a QR code."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"url": "https://verify.example/verify#v1.oQGBf...", "digest": EXAMPLE_DIGEST}
            ],
            "oneOf": [{"required": ["bundle"]}, {"required": ["url"]}],
        },
    )

    bundle: Annotated[dict[str, Any], WithJsonSchema(bundle_json_schema())] | None = Field(
        default=None, description="Proof bundle v1 (see docs/proof-format.md)"
    )
    url: str | None = Field(
        default=None, max_length=8192, description="Verification URL (…/verify#v1.…)"
    )
    digest: DigestHex | None = Field(
        default=None, description="SHA-256 of the document, to check it is the one anchored"
    )

    @model_validator(mode="after")
    def _one_source(self) -> VerifyRequest:
        if (self.bundle is None) == (self.url is None):
            raise ValueError("give exactly one of bundle and url")
        return self

    def to_bundle(self) -> ProofBundle:
        """The bundle given, or the one the URL carries; `ProofError` (422) if malformed.

        A time past year 9999 is refused here: no block has it, and no date can show it.
        """
        if self.bundle is not None:
            bundle = parse_bundle(self.bundle)
        else:
            assert self.url is not None
            bundle = compact.parse_verification_url(self.url)
        if bundle.anchored_at > MAX_ANCHORED_AT:
            raise ProofError(
                "the proof bundle field anchoredAt is malformed: it is past the year 9999 "
                f"(at most {MAX_ANCHORED_AT})"
            )
        return bundle


class CheckOut(BaseModel):
    """One check of the verifier: what was expected, what was found, and why."""

    name: str
    ok: bool | None
    expected: str | None
    actual: str | None
    reason: str
    required: bool


_EXAMPLE_NAMES = {"fr": "Commune de Contern", "de": "Gemeinde Contern", "en": "Commune of Contern",
                  "lb": "Gemeng Conter"}  # fmt: skip
_EXAMPLE_BODY = {
    "id": 7,
    "kind": "commune",
    "code": "LU-CONTERN",
    "status": "active",
    "namesAtAnchor": _EXAMPLE_NAMES,
    "namesNow": _EXAMPLE_NAMES,
}

BodyKind = Literal["commune", "syndicate", "social_office", "childcare", "state_body", "other"]
BodyStatusWord = Literal["unknown", "active", "suspended", "retired"]


class NamesOut(_Response):
    """A body's names in one version; ``lb`` may be empty, the others fall back to ``fr``."""

    fr: str
    de: str
    en: str
    lb: str


class BodyOut(_Response):
    """The issuing body as the registry holds it (never as a proof names it)."""

    id: int = Field(description="The body's id in the registry")
    kind: BodyKind | str = Field(description="commune, syndicate, social_office, childcare...")
    code: str = Field(description="Official code; may be empty")
    status: BodyStatusWord | str = Field(
        description="Today's status; documents anchored while active stay valid"
    )
    names_at_anchor: NamesOut = Field(description="The names in force when the root was anchored")
    names_now: NamesOut = Field(description="The names in force today")


class RevocationOut(_Response):
    """A revocation that counts (not annulled), of the document or of its whole batch."""

    of: Literal["document", "batch"]
    at: int = Field(description="Unix time of the revocation")
    reason: int = Field(description="Reason code set by the revoker")
    reason_name: str = Field(description="The reason code's name (docs/operations.md)")


class VerdictOut(_Response):
    """The verdict: valid, invalid, or indeterminate when the chain could not be read."""

    model_config = _response_config(
        {
            "verdict": "valid",
            "lang": "fr",
            "issuerName": "Commune de Contern",
            "issuerNameNow": None,
            "body": _EXAMPLE_BODY,
            "authorised": True,
            "revocations": [],
            "issuer": EXAMPLE_ADDRESS,
            "anchoredAt": 1772534460,
            "anchoredAtText": "3 March 2026 at 10:41 UTC",
            "chainId": 31337,
            "checks": [
                {
                    "name": "root",
                    "ok": True,
                    "expected": EXAMPLE_ROOT,
                    "actual": EXAMPLE_ROOT,
                    "reason": "the proof folds the leaf into the root",
                    "required": True,
                }
            ],
        }
    )

    verdict: Outcome
    lang: Language
    issuer_name: str | None = Field(
        description="The registry's name of the body at anchoring time, in ``lang`` (never the "
        "proof's issuerName)"
    )
    issuer_name_now: str | None = Field(description="Today's name, when the body was renamed")
    body: BodyOut | None
    authorised: bool | None = Field(description="The key was authorised to anchor then")
    revocations: list[RevocationOut] = Field(
        description="Revocations that count (an annulled one does not), of the document or batch"
    )
    issuer: str | None = Field(description="The key that signed the anchor")
    anchored_at: int | None
    anchored_at_text: str | None
    chain_id: int | None
    checks: list[CheckOut]


class HealthOut(BaseModel):
    """The process is alive."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"]


class ReadyOut(BaseModel):
    """Whether the store and the chain can be reached; each says ``ok`` or why not."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ready", "store": "ok", "chain": "ok"}]}
    )

    status: Literal["ready", "unavailable"]
    store: str
    chain: str
