"""Whether a typed document's validity has ended: the type's validity-end fact, or the registry's
later extension, against today's date in Luxembourg (the page decides the same way)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from anchor.errors import InvalidInputError
from anchor.proof.bundle import ProofBundle, ProofBundleV2
from anchor.proof.doctypes import TypeRegistry, builtin_types
from anchor.verify.verdict import Check, DocumentLife

__all__ = ["today", "validity_check"]


def _zone() -> tzinfo:
    try:
        return ZoneInfo("Europe/Luxembourg")
    except ZoneInfoNotFoundError:  # no tz database on this machine: UTC, one or two hours off
        return UTC


def today() -> date:
    """Today's date in Luxembourg."""
    return datetime.now(_zone()).date()


def validity_check(
    bundle: ProofBundle,
    life: DocumentLife | None,
    *,
    types: TypeRegistry | None = None,
    on: date | None = None,
) -> tuple[Check | None, DocumentLife | None]:
    """The ``validity`` check and the life with its last valid day, for a typed document whose
    type has a validity end (the fact, or a later extension from the registry); (None, life)
    when there is no end to check. A type this verifier does not know: the fact's end cannot be
    read, only an extension counts."""
    fact_end: str | None = None
    if isinstance(bundle, ProofBundleV2):
        try:
            doctype = (types or builtin_types()).get_type(bundle.type_id, bundle.type_version)
        except InvalidInputError:
            doctype = None
        if doctype is not None and doctype.validity_end is not None:
            fact_end = bundle.facts.get(doctype.validity_end)
    extended = life.extended_until if life is not None else None
    ends = [d for d in (fact_end, extended) if d is not None and not d.startswith("Unix")]
    if not ends:
        return None, life
    end = max(ends)  # ISO dates compare as text
    day = on or today()
    expired = day > date.fromisoformat(end)
    life = replace(life or DocumentLife(), valid_until=end, expired=expired)
    where = "extended by the registry" if end == extended and end != fact_end else "its facts"
    if expired:
        return Check("validity", False, f"valid on {day}", f"valid until {end}",
                     f"the document's validity ended on {end} ({where})"), life  # fmt: skip
    return Check("validity", True, f"valid on {day}", f"valid until {end}",
                 f"the document is valid until {end} ({where})"), life  # fmt: skip
