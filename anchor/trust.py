"""The registries a verifier trusts, known out of band, never taken from a proof.

A trusted registry is written ``ADDRESS[@CHAIN_ID][:FROM..TO]``:

* ``ADDRESS``: the registry contract, ``0x`` + 40 hex digits;
* ``@CHAIN_ID``: the chain it lives on; without it, the chain the verifier's nodes serve;
* ``:FROM..TO``: the period of anchoring times it is trusted for, either end may be left out.
  Each end is Unix seconds, a date (``2026-12-01``: 00:00 UTC that day) or a UTC time
  (``2026-12-01T12:00:00Z``). A root anchored at time ``t`` is covered when
  ``FROM <= t < TO``. After a redeploy the old registry stays trusted for what it anchored
  before the switch (``0xOLD:..2027-01-01``) and the new one from then on
  (``0xNEW:2027-01-01..``).

A list is written with commas or spaces between entries: ``ANCHOR_TRUSTED_REGISTRIES``, and
``anchor verify --registry`` (repeatable). See docs/proof-format.md, "Trusted registries".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from anchor.errors import ConfigError

__all__ = ["TrustedRegistry", "parse_trusted_registries", "parse_trusted_registry"]

_ENTRY = re.compile(r"(0x[0-9a-fA-F]{40})(?:@(\d+))?(?::(.*))?", re.DOTALL)


@dataclass(frozen=True, slots=True)
class TrustedRegistry:
    """One registry known out of band: its address, chain and period of trust."""

    address: str
    chain_id: int | None = None
    valid_from: int | None = None
    valid_until: int | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"0x[0-9a-f]{40}", self.address):
            raise ConfigError(f"{self.address!r} is not a lower-case registry address")
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until <= self.valid_from
        ):
            raise ConfigError(f"the trust period of {self.address} ends before it starts")

    def names(self, chain_id: int, address: str) -> bool:
        """True when this is the registry ``address`` on ``chain_id``."""
        same_chain = self.chain_id is None or self.chain_id == chain_id
        return same_chain and self.address == address.lower()

    def covers(self, anchored_at: int) -> bool:
        """True when a root anchored at ``anchored_at`` falls in the period of trust."""
        after_start = self.valid_from is None or anchored_at >= self.valid_from
        before_end = self.valid_until is None or anchored_at < self.valid_until
        return after_start and before_end

    @property
    def period(self) -> str:
        """The period as written in the spec (``..`` when unbounded)."""
        start = "" if self.valid_from is None else str(self.valid_from)
        end = "" if self.valid_until is None else str(self.valid_until)
        return f"{start}..{end}"

    def __str__(self) -> str:
        chain = "" if self.chain_id is None else f"@{self.chain_id}"
        period = "" if self.valid_from is None and self.valid_until is None else f":{self.period}"
        return f"{self.address}{chain}{period}"


def parse_trusted_registry(spec: str) -> TrustedRegistry:
    """Parse ``ADDRESS[@CHAIN_ID][:FROM..TO]``; `ConfigError` names what is wrong."""
    text = spec.strip()
    match = _ENTRY.fullmatch(text)
    if match is None:
        raise ConfigError(
            f"the trusted registry {text!r} is not written ADDRESS[@CHAIN_ID][:FROM..TO]"
        )
    address, chain, period = match.groups()
    chain_id = int(chain) if chain else None
    if chain_id == 0:
        raise ConfigError(f"the trusted registry {text!r} names chain id 0")
    valid_from = valid_until = None
    if period is not None:
        if ".." not in period:
            raise ConfigError(f"the trust period in {text!r} must be written FROM..TO")
        start, end = period.split("..", 1)
        valid_from = _instant(start, text)
        valid_until = _instant(end, text)
    return TrustedRegistry(address.lower(), chain_id, valid_from, valid_until)


def parse_trusted_registries(specs: str | Iterable[str]) -> list[TrustedRegistry]:
    """Parse a list of entries, given as one string (commas or spaces) or as strings."""
    items: Sequence[str] = [specs] if isinstance(specs, str) else list(specs)
    entries = [part for item in items for part in re.split(r"[,\s]+", item) if part]
    return [parse_trusted_registry(e) for e in entries]


def _instant(text: str, spec: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        raise ConfigError(f"{text!r} in the trusted registry {spec!r} is not a time") from e
    if moment.tzinfo is None:
        raise ConfigError(f"{text!r} in the trusted registry {spec!r} needs a time zone (Z)")
    return int(moment.timestamp())
