"""What a verification concludes: the outcome, every check made, and how times are shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = ["Check", "Outcome", "Verdict", "format_time", "outcome_of"]


class Outcome(StrEnum):
    """The verdict on a bundle."""

    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class Check:
    """One check: ``ok`` is True (passed), False (failed) or None (could not be made).

    A check that is not ``required`` (the transaction receipt, the issuer's display name, the
    document when none was given) is reported but never changes the verdict by being None.
    """

    name: str
    ok: bool | None
    expected: str | None
    actual: str | None
    reason: str
    required: bool = True


@dataclass(frozen=True)
class Verdict:
    """The outcome, every check made, and what to show a citizen (issuer name, anchor time)."""

    outcome: Outcome
    checks: tuple[Check, ...]
    issuer_name: str | None = None
    issuer: str | None = None
    anchored_at: int | None = None
    chain_id: int | None = None
    rpc_url: str | None = field(default=None)

    @property
    def failed(self) -> tuple[Check, ...]:
        """The checks that failed, required or not."""
        return tuple(c for c in self.checks if c.ok is False)

    def check(self, name: str) -> Check | None:
        """Return the check called ``name``, if it was made."""
        return next((c for c in self.checks if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: the verdict, display fields and every check."""
        return {
            "verdict": self.outcome.value,
            "issuerName": self.issuer_name,
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
