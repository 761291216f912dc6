"""What a verification concludes: the outcome, every check made, the issuing body as the
registry names it, and how times are shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "LANGUAGES",
    "BodyNames",
    "Check",
    "DocumentLife",
    "IssuingBody",
    "Outcome",
    "Revocation",
    "Verdict",
    "format_time",
    "outcome_of",
]

#: The languages a body's name is shown in; French is the default and the fallback.
LANGUAGES = ("fr", "de", "en")

#: The registry's ``Kind`` enum by value, as the verdict names it (``Kind.slug``); kept here so
#: that importing the verdict loads no web3 (tests check that the two agree).
BODY_KINDS = ("commune", "syndicate", "social_office", "childcare", "state_body", "other")
#: The registry's ``BodyStatus`` enum by value, in lower case.
BODY_STATUSES = ("unknown", "active", "suspended", "retired")


class Outcome(StrEnum):
    """The verdict on a bundle."""

    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class Check:
    """One check: ``ok`` is True (passed), False (failed) or None (could not be made).

    A check that is not ``required`` (the transaction receipt, the bundle's ignored issuer name,
    the document when none was given) is reported but never changes the verdict by being None.
    """

    name: str
    ok: bool | None
    expected: str | None
    actual: str | None
    reason: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class BodyNames:
    """A body's names in one version: French (never empty), German, English, Luxembourgish."""

    fr: str
    de: str = ""
    en: str = ""
    lb: str = ""

    def for_language(self, lang: str) -> str:
        """The name in ``lang``; the French one when that language has none."""
        name = getattr(self, lang, "") if lang in ("fr", "de", "en", "lb") else ""
        return name or self.fr


@dataclass(frozen=True, slots=True)
class IssuingBody:
    """The body that anchored the root, as the registry holds it (never as a proof says).

    ``kind`` is one of `BODY_KINDS`, ``status`` one of `BODY_STATUSES` (today's status: a body
    suspended or retired after anchoring leaves its earlier documents valid).
    """

    body_id: int
    kind: str
    code: str
    status: str
    name_at_anchor: BodyNames
    name_now: BodyNames

    def name(self, lang: str = "fr") -> str:
        """The name in force when the root was anchored, in ``lang`` (French fallback)."""
        return self.name_at_anchor.for_language(lang)

    def renamed(self, lang: str = "fr") -> str | None:
        """Today's name in ``lang`` when it differs from the name at anchoring, else None."""
        now = self.name_now.for_language(lang)
        return now if now != self.name(lang) else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (camel-case names, as the API and ``--json`` print it)."""
        return {
            "id": self.body_id,
            "kind": self.kind,
            "code": self.code,
            "status": self.status,
            "namesAtAnchor": asdict(self.name_at_anchor),
            "namesNow": asdict(self.name_now),
        }


@dataclass(frozen=True, slots=True)
class Revocation:
    """A revocation that counts (not annulled): of the ``document`` or of its whole ``batch``."""

    of: str
    at: int
    reason: int
    reason_name: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"of": self.of, "at": self.at, "reason": self.reason, "reasonName": self.reason_name}


@dataclass(frozen=True, slots=True)
class DocumentLife:
    """Where the document stands in its life, from the registry: ``state`` one of ``in_force``,
    ``suspended``, ``revoked``, ``superseded`` (the document's own state; a revoked batch is in
    `Verdict.revocations`); ``since``, ``reason`` and ``reason_name`` of the change that set it;
    ``extended_until`` the last day of an extension (ISO date) or None; ``valid_until`` the last
    valid day all told (the extension, else the type's validity-end fact) or None; the successor's
    root and leaf when superseded; ``expired`` when ``valid_until`` has passed."""

    state: str = "in_force"
    since: int | None = None
    reason: int = 0
    reason_name: str = ""
    extended_until: str | None = None
    valid_until: str | None = None
    successor_root: str | None = None
    successor_leaf: str | None = None
    expired: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (camel case)."""
        return {
            "state": self.state,
            "since": self.since,
            "reason": self.reason,
            "reasonName": self.reason_name,
            "extendedUntil": self.extended_until,
            "validUntil": self.valid_until,
            "successorRoot": self.successor_root,
            "successorLeaf": self.successor_leaf,
            "expired": self.expired,
        }


@dataclass(frozen=True)
class Verdict:
    """The outcome, every check made, and what to show a citizen (the body, the anchor time).

    ``body``, ``authorised`` and ``revocations`` come from the registry; the first two are None
    when it was not read. A revocation the registrar annulled is not listed: it does not count.
    """

    outcome: Outcome
    checks: tuple[Check, ...]
    issuer: str | None = None
    anchored_at: int | None = None
    chain_id: int | None = None
    rpc_url: str | None = field(default=None)
    body: IssuingBody | None = None
    authorised: bool | None = None
    revocations: tuple[Revocation, ...] = ()
    life: DocumentLife | None = None

    @property
    def failed(self) -> tuple[Check, ...]:
        """The checks that failed, required or not."""
        return tuple(c for c in self.checks if c.ok is False)

    def check(self, name: str) -> Check | None:
        """Return the check called ``name``, if it was made."""
        return next((c for c in self.checks if c.name == name), None)

    def issuer_name(self, lang: str = "fr") -> str | None:
        """The registry's name of the body at anchoring time, in ``lang``; None if unknown."""
        return self.body.name(lang) if self.body is not None else None

    def to_dict(self, lang: str = "fr") -> dict[str, Any]:
        """A JSON-ready form: the verdict, display fields (names in ``lang``), every check."""
        body = self.body
        return {
            "verdict": self.outcome.value,
            "lang": lang,
            "issuerName": self.issuer_name(lang),
            "issuerNameNow": body.renamed(lang) if body is not None else None,
            "body": body.to_dict() if body is not None else None,
            "authorised": self.authorised,
            "revocations": [r.to_dict() for r in self.revocations],
            "life": self.life.to_dict() if self.life is not None else None,
            "issuer": self.issuer,
            "anchoredAt": self.anchored_at,
            "anchoredAtText": format_time(self.anchored_at) if self.anchored_at else None,
            "chainId": self.chain_id,
            "rpcUrl": self.rpc_url,
            "checks": [asdict(c) for c in self.checks],
        }


def outcome_of(checks: Sequence[Check]) -> Outcome:
    """Apply the verdict rules: a failed required check wins, then one not made, else valid."""
    required = [c for c in checks if c.required]
    if any(c.ok is False for c in required):
        return Outcome.INVALID
    if any(c.ok is None for c in required):
        return Outcome.INDETERMINATE
    return Outcome.VALID


def format_time(timestamp: int) -> str:
    """``3 March 2026 at 10:41 UTC`` for a Unix time; ``Unix time N`` past the year 9999."""
    try:
        t = datetime.fromtimestamp(timestamp, tz=UTC)
    except (OverflowError, OSError, ValueError):  # "year out of range": no calendar date
        return f"Unix time {timestamp}"
    return f"{t.day} {t:%B %Y} at {t:%H:%M} UTC"
