"""The poster of a typed document: the certificate posted near a building site (pure PDF).

A Luxembourg building permit is posted on the site (the "point rouge") for neighbours to see
and contest. This poster shows the issuing body, the document's title and public facts in
French, German or English, the type's legal notice, the day the registry recorded it, and the
QR code of its verification URL with the verification page's address in plain text.
`render_poster` returns the PDF's bytes; `anchor.poster.layout` has the QR code's geometry.
"""

from __future__ import annotations

from anchor.poster.fonts import PosterFontError
from anchor.poster.layout import PAGE_SIZES, PageSize, QrPlacement, qr_placement
from anchor.poster.render import Poster, PosterLayoutError, render_poster
from anchor.poster.texts import LANGUAGES, Language

__all__ = [
    "LANGUAGES",
    "PAGE_SIZES",
    "Language",
    "PageSize",
    "Poster",
    "PosterFontError",
    "PosterLayoutError",
    "QrPlacement",
    "qr_placement",
    "render_poster",
]
