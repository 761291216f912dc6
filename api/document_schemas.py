"""Request and response bodies of the typed-document routes (``/v1/documents``,
``/v1/document-types``); the digest routes' bodies are in `api.schemas`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from anchor.proof.doctypes import DocumentType
from api.schemas import EXAMPLE_DIGEST, EXAMPLE_ID, DigestHex, ReceiptOut

MAX_FACTS = 32
"""Most facts of one group a request may carry (a type has at most 32 of each)."""
FactName = Annotated[str, StringConstraints(min_length=1, max_length=32)]
"""A fact's name as a request may carry it (a type's names have at most 32 characters)."""

EXAMPLE_PERMIT: dict[str, Any] = {
    "type": "lu.building-permit",
    "digest": "dfa9cd1a7a3468ae82cd88189a9b0a40fb4fcf53c52ebf0f2d07dbb6d64b9bad",
    "facts": {
        "reference": "2026/0042",
        "decisionDate": "2026-03-12",
        "works": "Construction d'une maison unifamiliale avec garage",
        "address": "6, rue de l'Étang, L-5326 Contern",
        "parcel": "Contern, section A, n° 123/4567",
        "validUntil": "2027-03-12",
    },
    "private": {"holder": "Marie Schmit"},
}


class DocumentRequest(BaseModel):
    """One typed document: its type, the SHA-256 of its file, its public and private facts.

    The facts are checked against the type (``GET /v1/document-types``): an unknown type or
    fact, a missing required fact or a malformed value is a 422 naming the field.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [EXAMPLE_PERMIT]}
    )

    type: str = Field(
        min_length=1, max_length=64, description="The type's id (its latest version is used)"
    )
    digest: DigestHex | None = Field(
        default=None,
        description="SHA-256 of the document's file; required unless the type says optional",
    )
    facts: dict[FactName, str] = Field(
        default_factory=dict,
        max_length=MAX_FACTS,
        description="The public facts, by name: certified and shown to whoever verifies",
    )
    private: dict[FactName, str] | None = Field(
        default=None,
        max_length=MAX_FACTS,
        description="The private facts, by name: committed under a salt the service keeps, "
        "never shown and never in a proof",
    )


class DocumentReceiptOut(ReceiptOut):
    """The receipt of a typed document; its digest is the statement digest, not the file's."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "id": EXAMPLE_ID,
                    "digest": EXAMPLE_DIGEST,
                    "status": "pending",
                    "type": "lu.building-permit",
                    "typeVersion": 1,
                }
            ]
        },
    )

    type: str
    type_version: int


class DocumentTypesOut(BaseModel):
    """Every document type the service knows, as loaded from its file; private facts by name."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "types": [
                        {
                            "id": "lu.building-permit",
                            "version": 1,
                            "labels": {
                                "fr": "Autorisation de bâtir",
                                "de": "Baugenehmigung",
                                "en": "Building permit",
                            },
                            "file": "optional",
                            "bareDigest": False,
                            "facts": [
                                {
                                    "name": "decisionDate",
                                    "kind": "date",
                                    "required": True,
                                    "labels": {
                                        "fr": "Date de la décision",
                                        "de": "Datum der Entscheidung",
                                        "en": "Date of the decision",
                                    },
                                }
                            ],
                            "privateFacts": ["holder"],
                            "validityEnd": "validUntil",
                            "notice": {"fr": "…", "de": "…", "en": "…"},
                        }
                    ]
                }
            ]
        },
    )

    types: list[dict[str, Any]]


def type_out(doctype: DocumentType) -> dict[str, Any]:
    """A type as ``GET /v1/document-types`` shows it: the file's fields, private facts named."""
    out: dict[str, Any] = doctype.model_dump(mode="json", by_alias=True, exclude_none=True)
    out["privateFacts"] = [spec.name for spec in doctype.private_facts]
    return out
