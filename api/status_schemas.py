"""Request and response bodies of ``/v1/receipts/{id}/status`` (a document's status changes).

A request is one of five shapes told apart by ``change``; unknown fields are refused, a reason
is a whole number from 0 to 65535 (no string, no boolean), a day is ``YYYY-MM-DD``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

from anchor.types import StatusChangeKind, StatusChangeState

EXAMPLE_ID = "Qm9uam91ciBsZSBtb25kZQ"
EXAMPLE_CHANGE = "c3RhdHVzIGNoYW5nZSAx"
_REQUEST = ConfigDict(extra="forbid", frozen=True)
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _day(text: object) -> date:
    """A day written YYYY-MM-DD (nothing else: no time, no number), that exists."""
    if not isinstance(text, str) or not _DAY.match(text):
        raise ValueError("expected a day written YYYY-MM-DD, such as 2028-03-12")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a day of the calendar (YYYY-MM-DD)") from None


Reason = Annotated[
    int,
    Field(
        strict=True,
        ge=0,
        le=65535,
        description="A reason code (anchor.types; docs/api.md): 0 to 65535, 16 and up "
        "site-specific",
        examples=[1],
    ),
]
Day = Annotated[
    date,
    BeforeValidator(_day),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _DAY.pattern,
            "description": "The last valid day (UTC), YYYY-MM-DD",
            "examples": ["2028-03-12"],
        }
    ),
]
ReceiptIdText = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", examples=[EXAMPLE_ID])
]


class SuspendRequest(BaseModel):
    """Suspend a document in force (liftable), with a suspension reason."""

    model_config = _REQUEST
    change: Literal["suspend"]
    reason: Reason


class LiftRequest(BaseModel):
    """Lift the suspension of a suspended document."""

    model_config = _REQUEST
    change: Literal["lift"]


class RevokeRequest(BaseModel):
    """Revoke a document in force or suspended (final), with a revocation reason."""

    model_config = _REQUEST
    change: Literal["revoke"]
    reason: Reason


class SupersedeRequest(BaseModel):
    """Supersede a document by another anchored receipt of the same integrator (final)."""

    model_config = _REQUEST
    change: Literal["supersede"]
    successor: ReceiptIdText


class ExtendRequest(BaseModel):
    """Extend a document's validity through a later day (UTC)."""

    model_config = _REQUEST
    change: Literal["extend"]
    valid_until: Day = Field(alias="validUntil")


StatusRequest = Annotated[
    SuspendRequest | LiftRequest | RevokeRequest | SupersedeRequest | ExtendRequest,
    Field(discriminator="change"),
]


class StatusChangeOut(BaseModel):
    """A requested status change and where it stands."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "id": EXAMPLE_CHANGE, "receipt": EXAMPLE_ID, "change": "suspend",
                    "state": "pending", "reason": 1, "validUntil": None, "successor": None,
                    "error": None, "txHash": None, "blockNumber": None,
                    "createdAt": "2026-12-01T10:41:00Z", "updatedAt": "2026-12-01T10:41:00Z",
                }
            ]
        },
    )  # fmt: skip

    id: str = Field(description="The change's id, for GET /v1/receipts/{id}/status/{changeId}")
    receipt: str
    change: StatusChangeKind
    state: StatusChangeState = Field(
        description="pending (stored), sent (signed and broadcast), done (on chain at the "
        "configured depth) or failed (refused by the registry: see error)"
    )
    reason: int | None = None
    valid_until: date | None = None
    successor: str | None = Field(default=None, description="The successor's receipt id")
    error: str | None = Field(
        default=None,
        description="Why it failed, in one sentence; while pending or sent, why it waits",
    )
    tx_hash: str | None = None
    block_number: int | None = None
    created_at: datetime
    updated_at: datetime
