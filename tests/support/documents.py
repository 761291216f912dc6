"""The building permit of docs/proof-format.md section 10, as tests submit it."""

from __future__ import annotations

import hashlib

PERMIT_TYPE = "lu.building-permit"
PERMIT_FILE = b"%PDF-1.7\nAutorisation de batir 2026/0042\n"
PERMIT_DIGEST = hashlib.sha256(PERMIT_FILE).hexdigest()
PERMIT_FACTS = {
    "reference": "2026/0042",
    "decisionDate": "2026-03-12",
    "works": "Construction d'une maison unifamiliale avec garage",
    "address": "6, rue de l'\u00c9tang, L-5326 Contern",
    "parcel": "Contern, section A, n\u00b0 123/4567",
    "validUntil": "2027-03-12",
}
PERMIT_PRIVATE = {"holder": "Marie Schmit"}


def permit_request(**changes: object) -> dict[str, object]:
    """The JSON body of ``POST /v1/documents`` for the permit; ``changes`` replace fields."""
    body: dict[str, object] = {
        "type": PERMIT_TYPE,
        "digest": PERMIT_DIGEST,
        "facts": dict(PERMIT_FACTS),
        "private": dict(PERMIT_PRIVATE),
    }
    body.update(changes)
    return body
