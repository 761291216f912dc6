"""The poster's geometry: page sizes, and where and how large the QR code is printed.

Everything is laid out once for A4 portrait, in millimetres; A3 portrait is the same page scaled
by its width ratio (sqrt 2), so the QR code grows from 124 mm to 175 mm and a phone reads it
from farther away. The symbol's width excludes its quiet zone of `anchor.proof.qr.BORDER`
modules on each side, which the layout keeps free of ink.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from anchor.proof.qr import BORDER, ErrorCorrection, qr_modules

__all__ = [
    "A4_HEIGHT_MM",
    "A4_WIDTH_MM",
    "MARGIN_MM",
    "PAGE_SIZES",
    "QR_LEVEL",
    "QR_WIDTH_A4_MM",
    "PageSize",
    "QrPlacement",
    "page_mm",
    "qr_placement",
    "scale",
]

PageSize = Literal["A4", "A3"]
PAGE_SIZES: tuple[PageSize, ...] = get_args(PageSize)

A4_WIDTH_MM = 210.0
A4_HEIGHT_MM = 297.0
_PAGES_MM: dict[PageSize, tuple[float, float]] = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
MARGIN_MM = 14.0
#: Width of the QR symbol on A4, quiet zone excluded: at least 12 cm, read from 1.5 m or so.
QR_WIDTH_A4_MM = 124.0
#: A poster outdoors is exposed to rain, dirt and sun: 25 % of the modules may be lost.
QR_LEVEL: ErrorCorrection = "Q"


def page_mm(size: PageSize) -> tuple[float, float]:
    """Width and height of ``size`` portrait, in millimetres."""
    try:
        return _PAGES_MM[size]
    except KeyError:
        raise ValueError(f"the poster is printed on A4 or A3, not {size!r}") from None


def scale(size: PageSize) -> float:
    """How much larger ``size`` is drawn than the A4 layout (1 for A4, about 1.414 for A3)."""
    return page_mm(size)[0] / A4_WIDTH_MM


@dataclass(frozen=True)
class QrPlacement:
    """The QR code of one URL as the poster prints it on one page size."""

    version: int
    modules: int
    """Modules on a side, quiet zone excluded (17 + 4 x version)."""
    width_mm: float
    """Printed width of the symbol, quiet zone excluded."""
    dark: tuple[tuple[bool, ...], ...]

    @property
    def module_mm(self) -> float:
        """Printed size of one module."""
        return self.width_mm / self.modules

    @property
    def quiet_mm(self) -> float:
        """Printed width of the quiet zone on each side."""
        return BORDER * self.module_mm


def qr_placement(url: str, size: PageSize, level: ErrorCorrection = QR_LEVEL) -> QrPlacement:
    """The QR code of ``url`` at ``level`` (Q on a poster) as printed on ``size``."""
    dark = qr_modules(url, level)
    modules = len(dark)
    return QrPlacement(
        version=(modules - 17) // 4,
        modules=modules,
        width_mm=QR_WIDTH_A4_MM * scale(size),
        dark=dark,
    )
