"""The revocation reason codes agree between the operator scripts, their docs and the page."""

from __future__ import annotations

import re
from pathlib import Path

from anchor.types import (
    REVOCATION_REASONS,
    SUSPENSION_REASONS,
    reason_name,
    suspension_reason_name,
)

ROOT = Path(__file__).resolve().parents[2]

#: The page's English wording of each name in docs/operations.md.
PAGE_WORDING = {
    "unspecified": "not specified",
    "superseded": "replaced by a new document",
    "issued in error": "issued in error",
    "fraud": "fraud or forgery found",
    "withdrawn by the issuer": "withdrawn by the issuer",
    "annulled by a court": "annulled by a court",
}


def scripts_table() -> dict[int, str]:
    from scripts import _common

    assert _common.REASONS is REVOCATION_REASONS  # the scripts print the one table
    return dict(_common.REASONS)


def docs_table(section: str = "## Revoking documents and roots") -> dict[int, str]:
    """The code table of one section of docs/operations.md."""
    text = (ROOT / "docs" / "operations.md").read_text()
    part = text[text.index(section) :]
    part = part[: part.index("\n## ", len(section))]
    return {int(c): name for c, name in re.findall(r"^\| (\d+) \| ([^|]+?) \|", part, re.M)}


def page_table(lang: str) -> dict[int, str]:
    text = (ROOT / "api" / "static" / "verify" / "i18n.js").read_text()
    block = text[text.index(f"{lang}:") :]
    return {int(c): label for c, label in re.findall(r'"revocation\.(\d)": "([^"]+)"', block)[:6]}


def test_scripts_and_docs_agree() -> None:
    assert scripts_table() == docs_table()
    assert sorted(docs_table()) == [0, 1, 2, 3, 4, 5]


def test_page_names_every_code_in_three_languages() -> None:
    docs = docs_table()
    assert page_table("en") == {code: PAGE_WORDING[name] for code, name in docs.items()}
    for lang in ("fr", "de"):
        assert sorted(page_table(lang)) == sorted(docs)


def test_suspension_codes_agree() -> None:
    """docs/operations.md "Changing a document's status", anchor.types and scripts/status.py."""
    assert docs_table("## Changing a document's status") == SUSPENSION_REASONS
    assert sorted(SUSPENSION_REASONS) == [0, 1, 2]
    usage = (ROOT / "scripts" / "status.py").read_text()
    for table in (SUSPENSION_REASONS, REVOCATION_REASONS):
        assert ", ".join(f"{code} {name}" for code, name in table.items()) in " ".join(
            usage.split()
        )
    assert suspension_reason_name(1) == "suspended by a court"
    assert suspension_reason_name(16) == "site-specific"


def test_reason_names() -> None:
    assert reason_name(1) == "superseded"
    assert reason_name(7) == "site-specific"
