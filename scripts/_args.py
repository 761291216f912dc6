"""The arguments of the operator scripts, checked before anything is read from the chain.

One convention for every script: ``brownie run scripts/<script>.py <function> POSITIONAL...
[NAME=VALUE...] --network <id>``. Positional arguments are the ones a function cannot do
without (a body id, a key address); ``NAME=VALUE`` options follow them in any order. Each
parser raises `OperatorError` with one sentence naming the argument and what it should be.

Times are ISO 8601 with a zone (``2026-12-01T08:00:00Z``, ``2026-12-01T09:00+01:00``), Unix
seconds (``1796112000``), or ``now``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from scripts._common import REASONS, OperatorError

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BYTES32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
ZERO32 = "0x" + "00" * 32
#: `validUntil` of an open-ended key, as the registry stores it.
OPEN_ENDED = 2**64 - 1

#: `Kind` of docs/registry.md, as the operator spells it (0..5).
KINDS = ("commune", "syndicate", "social-office", "childcare", "state-body", "other")
#: `Purpose` of docs/registry.md (1 and 2; 0 is "none").
PURPOSES = {"anchoring": 1, "status": 2}
#: `BodyStatus` of docs/registry.md (0..3).
BODY_STATUSES = ("unknown", "active", "suspended", "retired")
LANGUAGES = ("fr", "de", "en", "lb")


def parse_address(text: object, what: str = "address") -> str:
    """Return the checksummed form of a 0x address, or fail with one sentence."""
    from web3 import Web3

    value = str(text).strip()
    if not _ADDRESS.match(value):
        raise OperatorError(f"{what} {value!r} is not an Ethereum address (0x and 40 hex digits).")
    digits = value[2:]
    mixed = digits != digits.lower() and digits != digits.upper()
    if mixed and Web3.to_checksum_address(value) != value:
        raise OperatorError(f"{what} {value!r} has a wrong checksum (a mistyped letter?).")
    return str(Web3.to_checksum_address(value))


def parse_bytes32(text: object, what: str) -> str:
    """Return a lower-case 0x hex string of 32 bytes, or fail with one sentence."""
    value = str(text).strip()
    if not _BYTES32.match(value):
        raise OperatorError(f"{what} {value!r} is not 32 bytes of hex (0x and 64 hex digits).")
    return value.lower()


def parse_reason(text: object) -> int:
    """Return a reason code 0..65535, or fail with one sentence."""
    value = str(text).strip()
    if not value.isdigit() or int(value) > 65535:
        table = ", ".join(f"{k} {v}" for k, v in REASONS.items())
        raise OperatorError(f"reason {value!r} is not a code from 0 to 65535 ({table}).")
    return int(value)


def parse_count(text: object, what: str, *, low: int = 0, high: int = 2**32 - 1) -> int:
    """Return a whole number from ``low`` to ``high``, or fail with one sentence."""
    value = str(text).strip()
    if not value.isdigit() or not low <= int(value) <= high:
        raise OperatorError(f"{what} {value!r} is not a whole number from {low} to {high}.")
    return int(value)


def parse_body(text: object) -> int:
    """Return a body id (1 and up, uint32)."""
    return parse_count(text, "body id", low=1)


def parse_time(text: object, what: str) -> int:
    """Return Unix seconds from ISO 8601 with a zone, Unix seconds, or ``now`` (0)."""
    value = str(text).strip()
    if value.lower() == "now":
        return 0
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as e:
        raise OperatorError(
            f"{what} {value!r} is not a time: use ISO 8601 with a zone "
            "(2026-12-01T08:00:00Z), Unix seconds, or now."
        ) from e
    if moment.tzinfo is None:
        raise OperatorError(
            f"{what} {value!r} has no time zone: add Z (UTC) or an offset such as +01:00."
        )
    return int(moment.timestamp())


def parse_kind(text: object) -> int:
    """Return the `Kind` number of a body kind spelled as in `KINDS` (``_`` for ``-`` too)."""
    value = str(text).strip().lower().replace("_", "-")
    if value not in KINDS:
        raise OperatorError(f"kind {text!r} is not a body kind: use one of {', '.join(KINDS)}.")
    return KINDS.index(value)


def parse_purpose(text: object) -> int:
    """Return the `Purpose` number of ``anchoring`` or ``status``."""
    value = str(text).strip().lower()
    if value not in PURPOSES:
        raise OperatorError(f"purpose {text!r} is not a key purpose: use anchoring or status.")
    return PURPOSES[value]


def options(
    args: Sequence[object], allowed: Iterable[str], *, repeat: Iterable[str] = ()
) -> dict[str, list[str]]:
    """Return the ``NAME=VALUE`` options of ``args``, each name one of ``allowed``.

    A name may appear once, or several times when it is in ``repeat``.
    """
    names, many = tuple(allowed), set(repeat)
    found: dict[str, list[str]] = {}
    for arg in args:
        name, sep, value = str(arg).partition("=")
        key = name.strip().lower()
        if not sep:
            raise OperatorError(
                f"argument {str(arg)!r} is not NAME=VALUE (one of {', '.join(names)})."
            )
        if key not in names:
            raise OperatorError(
                f"unknown option {name!r}: use {', '.join(n + '=' for n in names)}."
            )
        if key in found and key not in many:
            raise OperatorError(f"option {key}= is given twice.")
        found.setdefault(key, []).append(value)
    return found


def one(found: dict[str, list[str]], name: str) -> str | None:
    """Return the value of a single option, or None when it is absent."""
    values = found.get(name)
    return values[0] if values else None


def validity(found: dict[str, list[str]], prefix: str = "") -> tuple[int, int]:
    """Return (validFrom, validUntil) from the options ``from=`` and ``until=`` (0: now, open).

    ``until`` must be a time (not ``now``), later than ``from`` when both are given.
    """
    start_text, end_text = one(found, f"{prefix}from"), one(found, f"{prefix}until")
    start = parse_time(start_text, f"{prefix}from") if start_text is not None else 0
    end = parse_time(end_text, f"{prefix}until") if end_text is not None else 0
    if end_text is not None and end == 0:
        raise OperatorError(
            f"{prefix}until {end_text!r} is not a time to come: leave {prefix}until= out for an "
            "open-ended key, or retire a key with keys.py retire."
        )
    if start and end and end <= start:
        raise OperatorError(
            f"the key would never be valid: {prefix}until {iso(end)} is not after "
            f"{prefix}from {iso(start)}."
        )
    return start, end


def iso(t: int) -> str:
    """Show Unix seconds as ISO 8601 in UTC; the open end of a key as ``open-ended``."""
    if t >= OPEN_ENDED:
        return "open-ended"
    return datetime.fromtimestamp(int(t), UTC).isoformat().replace("+00:00", "Z")
