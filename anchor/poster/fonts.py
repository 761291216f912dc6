"""The poster's fonts: TrueType files embedded in the PDF, checked to cover every character.

reportlab's standard Helvetica is not embedded and reads Latin-1 (with a few cp1252 extras)
only; a fact may hold any text (a holder called Łukasz, a street in Esch-sur-Alzette with
"œ"). The poster embeds DejaVu Sans (Debian's ``fonts-dejavu-core``, installed by
``make system-deps``), and falls back to Bitstream Vera, which reportlab ships, where DejaVu is
missing. Before drawing, `check_covered` refuses text holding a character the font has no glyph
for, in one sentence naming it, instead of printing an empty box on a legal notice.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from anchor.errors import AnchorError

__all__ = ["FontSet", "PosterFontError", "check_covered", "poster_fonts"]

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_VERA = Path(reportlab.__file__).resolve().parent / "fonts"


class PosterFontError(AnchorError):
    """A text of the poster holds a character its font cannot draw."""


@dataclass(frozen=True)
class FontSet:
    """The names the fonts are registered under with reportlab, and where they come from."""

    regular: str
    bold: str
    mono: str
    source: str


_CANDIDATES = (
    (
        "DejaVu",
        _DEJAVU / "DejaVuSans.ttf",
        _DEJAVU / "DejaVuSans-Bold.ttf",
        _DEJAVU / "DejaVuSansMono.ttf",
    ),
    ("Vera", _VERA / "Vera.ttf", _VERA / "VeraBd.ttf", _VERA / "VeraMono.ttf"),
)


@functools.cache
def poster_fonts() -> FontSet:
    """Register and return the first complete set of fonts found (DejaVu, else Vera)."""
    for name, regular, bold, mono in _CANDIDATES:
        if not (regular.is_file() and bold.is_file()):
            continue
        names = (f"Poster{name}", f"Poster{name}-Bold", f"Poster{name}-Mono")
        mono_file = mono if mono.is_file() else regular
        for font_name, path in zip(names, (regular, bold, mono_file), strict=True):
            pdfmetrics.registerFont(TTFont(font_name, str(path)))
        return FontSet(*names, source=str(regular))
    raise PosterFontError(
        "no font for the poster: install Debian's fonts-dejavu-core (make system-deps)"
    )


def check_covered(text: str, font_name: str) -> None:
    """Raise `PosterFontError` if ``text`` has a character ``font_name`` has no glyph for."""
    glyphs = _covered(font_name)
    for char in text:
        if char in "\n\t" or ord(char) in glyphs:
            continue
        name = unicodedata.name(char, f"U+{ord(char):04X}")
        raise PosterFontError(
            f"the poster's font ({font_name}) cannot draw the character {char!r} ({name}); "
            "write that fact without it"
        )


@functools.cache
def _covered(font_name: str) -> frozenset[int]:
    """The code points ``font_name`` (a registered TrueType font) has a glyph for."""
    font = pdfmetrics.getFont(font_name)
    if not isinstance(font, TTFont):
        raise PosterFontError(f"{font_name} is not a TrueType font registered by the poster")
    return frozenset(font.face.charToGlyph)
