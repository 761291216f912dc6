"""Draw the poster of one typed document as a one-page PDF (pure: bytes in memory, no I/O).

Top to bottom: the kind and name of the issuing body, the document type's title, the day the
registry recorded the document, the public facts with their labels, the type's legal notice;
at the bottom, the QR code of the verification URL (error correction Q, 124 mm on A4), the
page's address in plain text with its host name large, and a line saying that a genuine
check opens there and nowhere else, so that a passer-by can tell a look-alike site.

Texts that do not fit above the QR code are set smaller, down to `MIN_TEXT_SCALE`; past that
`PosterLayoutError`. The QR code never shrinks. Every value is escaped before it reaches
reportlab's paragraph markup: a fact reading ``<b>`` prints ``<b>``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from reportlab.lib.colors import Color, black
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from anchor.errors import AnchorError
from anchor.poster.fonts import FontSet, check_covered, poster_fonts
from anchor.poster.layout import (
    A4_HEIGHT_MM,
    A4_WIDTH_MM,
    MARGIN_MM,
    PageSize,
    QrPlacement,
    page_mm,
    qr_placement,
    scale,
)
from anchor.poster.texts import Language, format_date, format_instant, words
from anchor.proof.bundle import ProofBundleV2
from anchor.proof.compact import verification_url
from anchor.proof.doctypes import DocumentType, FactSpec, TypeRegistry
from anchor.types import IssuerKind

__all__ = ["MIN_TEXT_SCALE", "Poster", "PosterLayoutError", "render_poster"]

#: Smallest size of the texts, relative to their normal size, before giving up.
MIN_TEXT_SCALE = 0.6
RED = Color(0.80, 0.07, 0.12)
GREY = Color(0.33, 0.33, 0.33)
_WIDTH = (A4_WIDTH_MM - 2 * MARGIN_MM) * mm
_LABEL_WIDTH = 50 * mm
_GAP = 4 * mm
#: Width of the header lines, clear of the red dot.
_HEADER_WIDTH = _WIDTH - 26 * mm


class PosterLayoutError(AnchorError):
    """The facts and the notice are too long to fit on the page above the QR code."""


@dataclass(frozen=True)
class Poster:
    """What a poster shows: one anchored typed document, its type and its issuing body.

    ``base_url`` is the verification page (``https://host/verify``); the QR code carries
    ``base_url#v2.<digits>``, the URL `anchor.proof.compact.verification_url` makes.
    """

    bundle: ProofBundleV2
    doctype: DocumentType
    issuer_name: str
    issuer_kind: IssuerKind
    base_url: str

    def __post_init__(self) -> None:
        if (self.bundle.type_id, self.bundle.type_version) != (
            self.doctype.id,
            self.doctype.version,
        ):
            raise ValueError(
                f"the bundle is a {self.bundle.type_id} version {self.bundle.type_version}, "
                f"not a {self.doctype.key}"
            )
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("https", "http") or not parts.hostname or "#" in self.base_url:
            raise ValueError("the verification page must be an http(s) address with a host, no #")

    @property
    def url(self) -> str:
        """The verification URL the QR code carries."""
        types = TypeRegistry({(self.doctype.id, self.doctype.version): self.doctype})
        return verification_url(self.bundle, self.base_url, types)

    @property
    def host(self) -> str:
        """The verification page's host name, as printed large under the QR code."""
        host = urlsplit(self.base_url).hostname
        assert host is not None  # checked at construction
        return host


@dataclass
class _Row:
    """Paragraphs set side by side (a fact's label and value), then some space."""

    cells: list[tuple[Paragraph, float, float]]
    """(paragraph, left offset, width) in points."""
    space_after: float
    after: Callable[[Canvas, float], None] | None = None
    """Drawn once the row is placed, given the y of the row's bottom (the red rule)."""

    def height(self) -> float:
        return max(p.wrap(width, 10_000)[1] for p, _, width in self.cells)

    def draw(self, canvas: Canvas, x: float, top: float) -> float:
        """Draw the row with its top at ``top``; return the top of the next one."""
        height = self.height()
        for paragraph, left, width in self.cells:
            _, h = paragraph.wrap(width, 10_000)
            paragraph.drawOn(canvas, x + left, top - h)
        if self.after is not None:
            self.after(canvas, top - height)
        return top - height - self.space_after


class _Styles:
    """Paragraph styles in the poster's fonts, all sizes times ``factor``."""

    def __init__(self, fonts: FontSet, factor: float = 1.0) -> None:
        self.fonts = fonts
        self.factor = factor

    def __call__(
        self,
        text: str,
        font: str,
        size: float,
        *,
        leading: float = 1.22,
        color: Color = black,
        centred: bool = False,
        wrap_anywhere: bool = False,
    ) -> Paragraph:
        check_covered(text, font)
        size *= self.factor
        style = ParagraphStyle(
            name=f"{font}-{size:.2f}",
            fontName=font,
            fontSize=size,
            leading=size * leading,
            textColor=color,
            alignment=1 if centred else 0,
            wordWrap="CJK" if wrap_anywhere else None,
        )
        return Paragraph(escape(text), style)


def _fact_value(spec: FactSpec, value: str, lang: Language) -> str:
    if spec.kind == "date":
        return format_date(dt.date.fromisoformat(value), lang)
    return value


def _rule(canvas: Canvas, y: float) -> None:
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(1.6)
    canvas.line(MARGIN_MM * mm, y - 2.5 * mm, MARGIN_MM * mm + _HEADER_WIDTH, y - 2.5 * mm)


def _text_rows(poster: Poster, lang: Language, st: _Styles) -> list[_Row]:
    fonts, w, doctype = st.fonts, words(lang), poster.doctype
    header, k = _HEADER_WIDTH, st.factor  # spaces shrink with the texts
    recorded = w.recorded.format(date=format_instant(poster.bundle.anchored_at, lang))
    rows = [
        _Row([(st(w.kinds[poster.issuer_kind], fonts.regular, 11, color=GREY), 0, header)], k),
        _Row([(st(poster.issuer_name, fonts.bold, 19), 0, header)], 8 * mm * k, _rule),
        _Row([(st(getattr(doctype.labels, lang), fonts.bold, 28, leading=1.1), 0, header)], 2 * k),
        _Row([(st(recorded, fonts.regular, 12.5), 0, _WIDTH)], 6 * mm * k),
    ]
    value_left = _LABEL_WIDTH + _GAP
    for spec, value in doctype.ordered(poster.bundle.facts):
        if value is None:
            continue
        label = st(getattr(spec.labels, lang), fonts.bold, 9.5, color=GREY)
        shown = st(_fact_value(spec, value, lang), fonts.regular, 12.5)
        rows.append(
            _Row([(label, 0, _LABEL_WIDTH), (shown, value_left, _WIDTH - value_left)], 2.2 * mm * k)
        )
    if doctype.notice is not None:
        rows[-1].space_after = 5 * mm * k
        notice = st(getattr(doctype.notice, lang), fonts.regular, 9, leading=1.3)
        rows.append(_Row([(notice, 0, _WIDTH)], 0))
    return rows


def _draw_qr(canvas: Canvas, qr: QrPlacement, bottom: float) -> None:
    """Draw the symbol's dark modules with its lower edge at ``bottom``, centred, one path."""
    unit = qr.module_mm * mm
    left = (A4_WIDTH_MM * mm - qr.modules * unit) / 2
    path = canvas.beginPath()
    for r, row in enumerate(qr.dark):
        y = bottom + (qr.modules - 1 - r) * unit
        c = 0
        while c < qr.modules:
            if not row[c]:
                c += 1
                continue
            start = c
            while c < qr.modules and row[c]:
                c += 1
            path.rect(left + start * unit, y, (c - start) * unit, unit)
    canvas.setFillColor(black)
    canvas.drawPath(path, stroke=0, fill=1)


def _bottom_block(canvas: Canvas, poster: Poster, qr: QrPlacement, lang: Language) -> float:
    """Draw the QR code and the lines under it from the bottom margin up; return its top."""
    st, w, fonts = _Styles(poster_fonts()), words(lang), poster_fonts()
    x = MARGIN_MM * mm
    below = [
        st(w.address, fonts.regular, 10, centred=True, color=GREY),
        st(poster.host, fonts.bold, 24, centred=True, wrap_anywhere=True),
        st(poster.base_url, fonts.mono, 11, centred=True, wrap_anywhere=True),
        st(w.genuine.format(host=poster.host), fonts.regular, 9.5, centred=True),
    ]
    y = MARGIN_MM * mm
    for paragraph in reversed(below):
        _, h = paragraph.wrap(_WIDTH, 10_000)
        paragraph.drawOn(canvas, x, y)
        y += h + 1.2 * mm
    y += qr.quiet_mm * mm
    _draw_qr(canvas, qr, y)
    y += qr.width_mm * mm + qr.quiet_mm * mm
    scan = st(w.scan, fonts.bold, 12.5, centred=True)
    _, h = scan.wrap(_WIDTH, 10_000)
    scan.drawOn(canvas, x, y)
    return y + h


def _red_dot(canvas: Canvas) -> None:
    """The "point rouge" of a building site's certificate, top right."""
    radius = 10 * mm
    canvas.setFillColor(RED)
    canvas.circle(
        (A4_WIDTH_MM - MARGIN_MM) * mm - radius,
        (A4_HEIGHT_MM - MARGIN_MM) * mm - radius,
        radius,
        stroke=0,
        fill=1,
    )


def render_poster(poster: Poster, *, size: PageSize = "A4", lang: Language = "fr") -> bytes:
    """The poster as a one-page PDF of ``size`` (A4 or A3 portrait) written in ``lang``.

    Raises ValueError for another size or language, `PosterLayoutError` when the texts do not
    fit even at `MIN_TEXT_SCALE`, and `anchor.poster.fonts.PosterFontError` when a text holds
    a character the embedded font cannot draw.
    """
    words(lang)
    width, height = page_mm(size)
    qr = qr_placement(poster.url, "A4")  # drawn on the A4 layout, scaled with the page
    out = io.BytesIO()
    canvas = Canvas(
        out,
        pagesize=(width * mm, height * mm),
        invariant=True,
        pageCompression=1,
        # types-reportlab types it float; it is the font's name. No unembedded Helvetica then.
        initialFontName=poster_fonts().regular,  # type: ignore[arg-type]
    )
    canvas.setTitle(f"{getattr(poster.doctype.labels, lang)} — {poster.issuer_name}")
    canvas.setAuthor(poster.issuer_name)
    canvas.setCreator("anchor")
    canvas.scale(scale(size), scale(size))
    canvas.setFillColor(black)
    _red_dot(canvas)
    floor = _bottom_block(canvas, poster, qr, lang) + 6 * mm
    top = (A4_HEIGHT_MM - MARGIN_MM) * mm
    factor = 1.0
    while True:
        rows = _text_rows(poster, lang, _Styles(poster_fonts(), factor))
        needed = sum(r.height() + r.space_after for r in rows)
        if top - needed >= floor:
            break
        factor = round(factor - 0.05, 2)
        if factor < MIN_TEXT_SCALE:
            raise PosterLayoutError(
                "the facts and the notice do not fit on the page above the QR code, even set "
                f"{MIN_TEXT_SCALE:.0%} of their size; shorten the longest fact"
            )
    y = top
    for row in rows:
        y = row.draw(canvas, MARGIN_MM * mm, y)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
