"""The answer of ``GET /v1/roots/{root}``: what the registry says of a root, for the page.

The page asks about a batch root and the key its proof names, never a leaf; the answer lists
every document of the root with a history (public on chain in the registry's events), and the
page finds its own leaf there (docs/verification-page.md, "Privacy").
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.schemas import (
    _EXAMPLE_BODY,
    EXAMPLE_ADDRESS,
    EXAMPLE_REGISTRY,
    EXAMPLE_ROOT,
    BodyOut,
    _Response,
    _response_config,
)

ChangeName = Literal["revoked", "suspended", "lifted", "superseded", "extended"]
StateName = Literal["active", "suspended", "revoked", "superseded"]
_EXAMPLE_LEAF = "0x5e1c0f0a61f2b3a4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"
_EXAMPLE_ACTOR = "0x90f79bf6eb2c4f870365e785982e1f101e93b906"


class RootStatusOut(_Response):
    """The revocation of the whole batch that counts."""

    kind: Literal["revoked"]
    reason: int = Field(description="Revocation reason code (anchor.types.REVOCATION_REASONS)")
    at: int = Field(description="Unix time of the revocation (the block's time)")
    actor: str = Field(description="The revoker account or the body's status key")
    annulled: bool = Field(description="Always false here: an annulled revocation is not shown")


class HistoryEntryOut(_Response):
    """One change of a document, in the order made (annulled ones included, marked)."""

    kind: ChangeName
    reason: int = Field(description="Reason code (revocation or suspension table), else 0")
    at: int = Field(description="Unix time of the change (the block's time)")
    actor: str
    annulled: bool = Field(description="Annulled by the registrar: the change does not count")
    valid_until: str | None = Field(description="For an extension: the new last valid day")
    successor_root: str | None
    successor_leaf: str | None


class SuccessorOut(_Response):
    """The document that replaces a superseded one."""

    root: str
    leaf: str
    anchored_at: int = Field(description="When the successor's root was anchored")
    url: str | None = Field(
        description="The successor's verification URL when the server holds its receipt and "
        "its type is posted publicly; else null"
    )


class DocumentOut(_Response):
    """A document of the root with at least one change: its state folded, and its history."""

    leaf: str = Field(description="The document's leaf (public on chain in the registry's events)")
    state: StateName
    reason: int = Field(description="The reason of the change that set the state (0 if active)")
    since: int | None = Field(description="When that change was made; null when active")
    actor: str | None
    valid_until: str | None = Field(description="The last extension's last valid day, if any")
    successor: SuccessorOut | None
    history: list[HistoryEntryOut]


class RootAnswerOut(_Response):
    """What the registry says of a root anchored by the body of a key (no leaf is asked)."""

    model_config = _response_config(
        {
            "root": EXAMPLE_ROOT,
            "anchored": True,
            "key": EXAMPLE_ADDRESS,
            "body": _EXAMPLE_BODY,
            "anchoredAt": 1772534460,
            "leafCount": 12,
            "authorised": True,
            "rootStatus": None,
            "documents": [
                {
                    "leaf": _EXAMPLE_LEAF,
                    "state": "suspended",
                    "reason": 1,
                    "since": 1775000000,
                    "actor": _EXAMPLE_ACTOR,
                    "validUntil": None,
                    "successor": None,
                    "history": [
                        {
                            "kind": "suspended",
                            "reason": 1,
                            "at": 1775000000,
                            "actor": _EXAMPLE_ACTOR,
                            "annulled": False,
                            "validUntil": None,
                            "successorRoot": None,
                            "successorLeaf": None,
                        }
                    ],
                }
            ],
            "chainId": 31337,
            "registry": EXAMPLE_REGISTRY,
        }
    )

    root: str
    anchored: Literal[True]
    key: str = Field(description="The key that signed the anchor")
    body: BodyOut
    anchored_at: int
    leaf_count: int
    authorised: bool = Field(
        description="The key was valid for anchoring then, before any compromise time"
    )
    root_status: RootStatusOut | None = Field(
        description="The revocation of the whole batch that counts, if any"
    )
    documents: list[DocumentOut] = Field(
        description="Every document of the root with a status change, by leaf: the page looks "
        "for its own leaf here, so it never sends it"
    )
    chain_id: int
    registry: str
