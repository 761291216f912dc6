"""The poster's own words in French, German and English, and dates as each language writes them.

The document type gives its title, fact labels and legal notice (`anchor.proof.doctypes`); the
body gives its name. What is left is here: the kind of body, the lines around the QR code, and
the date the document was recorded in the registry. The date says *recorded*, never *posted*:
the registry knows when the root was anchored, not when the poster went up on the site.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from anchor.types import IssuerKind

__all__ = ["LANGUAGES", "Language", "Words", "format_date", "format_instant", "words"]

Language = Literal["fr", "de", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)

#: Dates on a Luxembourg site are read in Luxembourg's time (an anchor at 23:30 UTC in summer
#: is the next day there).
TIME_ZONE = "Europe/Luxembourg"


@dataclass(frozen=True)
class Words:
    """The fixed texts of a poster in one language."""

    recorded: str
    """Line under the title; ``{date}`` is the day the registry recorded the document."""
    scan: str
    """Line above the QR code."""
    address: str
    """Line under the QR code, before the page's address."""
    genuine: str
    """Line naming the host a genuine check opens; ``{host}``."""
    kinds: dict[IssuerKind, str]
    months: tuple[str, ...]
    day_format: str
    """``{day}``, ``{month}`` and ``{year}``."""


def _months(names: str) -> tuple[str, ...]:
    return tuple(names.split())


_WORDS: dict[Language, Words] = {
    "fr": Words(
        recorded="Enregistré dans le registre le {date}",
        scan="Vérifiez ce document : scannez le code avec votre téléphone.",
        address="ou ouvrez l\u2019adresse",
        genuine="Une vérification authentique s\u2019ouvre sur {host} et nulle part ailleurs.",
        kinds={
            IssuerKind.COMMUNE: "Commune",
            IssuerKind.SYNDICATE: "Syndicat intercommunal",
            IssuerKind.SOCIAL_OFFICE: "Office social",
            IssuerKind.CHILDCARE: "Structure d\u2019accueil",
            IssuerKind.STATE_BODY: "Administration de l\u2019État",
            IssuerKind.OTHER: "Organisme public",
        },
        months=_months(
            "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
        ),
        day_format="{day} {month} {year}",
    ),
    "de": Words(
        recorded="Im Register eingetragen am {date}",
        scan="Prüfen Sie dieses Dokument: Scannen Sie den Code mit Ihrem Telefon.",
        address="oder öffnen Sie die Adresse",
        genuine="Eine echte Prüfung öffnet sich auf {host} und nirgendwo sonst.",
        kinds={
            IssuerKind.COMMUNE: "Gemeinde",
            IssuerKind.SYNDICATE: "Gemeindesyndikat",
            IssuerKind.SOCIAL_OFFICE: "Sozialamt",
            IssuerKind.CHILDCARE: "Betreuungseinrichtung",
            IssuerKind.STATE_BODY: "Staatliche Verwaltung",
            IssuerKind.OTHER: "Öffentliche Einrichtung",
        },
        months=_months(
            "Januar Februar März April Mai Juni Juli August September Oktober November Dezember"
        ),
        day_format="{day}. {month} {year}",
    ),
    "en": Words(
        recorded="Recorded in the register on {date}",
        scan="Check this document: scan the code with your phone.",
        address="or open the address",
        genuine="A genuine check opens on {host} and nowhere else.",
        kinds={
            IssuerKind.COMMUNE: "Municipality",
            IssuerKind.SYNDICATE: "Intermunicipal syndicate",
            IssuerKind.SOCIAL_OFFICE: "Social office",
            IssuerKind.CHILDCARE: "Childcare service",
            IssuerKind.STATE_BODY: "State administration",
            IssuerKind.OTHER: "Public body",
        },
        months=_months(
            "January February March April May June July August September October November December"
        ),
        day_format="{day} {month} {year}",
    ),
}


def words(lang: Language) -> Words:
    """The fixed texts in ``lang``; ValueError for a language the poster is not written in."""
    try:
        return _WORDS[lang]
    except KeyError:
        raise ValueError(f"the poster is written in fr, de or en, not {lang!r}") from None


def format_date(day: dt.date, lang: Language) -> str:
    """``12 mars 2026``, ``12. März 2026``, ``12 March 2026``."""
    w = words(lang)
    return w.day_format.format(day=day.day, month=w.months[day.month - 1], year=day.year)


def _zone() -> dt.tzinfo:
    try:
        return ZoneInfo(TIME_ZONE)
    except ZoneInfoNotFoundError:  # no time zone database on this machine: UTC is close
        return dt.UTC


def format_instant(unix_time: int, lang: Language) -> str:
    """The day of ``unix_time`` in Luxembourg, written in ``lang``."""
    return format_date(dt.datetime.fromtimestamp(unix_time, _zone()).date(), lang)
