"""The poster as printed: its QR code scans to the verification URL, its sizes, its texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from anchor.poster import Poster, PosterFontError, qr_placement, render_poster
from anchor.poster.layout import QR_WIDTH_A4_MM, page_mm
from anchor.poster.texts import LANGUAGES, Language
from anchor.proof import compact
from anchor.proof.doctypes import builtin_types
from anchor.types import IssuerKind
from tests.poster.pdf import filled_rects_mm, ink, page_info, text_of, to_png
from tests.poster.permits import BASE_URL, FACTS, permit_bundle
from tests.support.qr import scan_qr

PERMIT = builtin_types().get_type("lu.building-permit")
RESIDENCE = builtin_types().get_type("lu.residence-certificate")
NAMES = {"fr": "Commune de Contern", "de": "Gemeinde Contern", "en": "Commune of Contern"}
DATES = {
    "fr": ("12 mars 2026", "12 mars 2027", "Enregistré dans le registre le 3 mars 2026"),
    "de": ("12. März 2026", "12. März 2027", "Im Register eingetragen am 3. März 2026"),
    "en": ("12 March 2026", "12 March 2027", "Recorded in the register on 3 March 2026"),
}


def poster(facts: dict[str, str] | None = None, *, leaves: int = 1024, lang: str = "fr") -> Poster:
    return Poster(permit_bundle(facts, leaves=leaves), PERMIT, NAMES[lang], IssuerKind.COMMUNE,
                  BASE_URL)  # fmt: skip


@pytest.mark.parametrize("size", ["A4", "A3"])
def test_the_qr_code_scans_to_the_verification_url(size: str, tmp_path: Path) -> None:
    shown = poster()
    pdf = render_poster(shown, size=size)  # type: ignore[arg-type]
    assert scan_qr(to_png(pdf, tmp_path, 150 if size == "A4" else 110)) == [shown.url]
    # ... which is the URL the API gives for the bundle, and carries this very document.
    assert shown.url == compact.verification_url(shown.bundle, BASE_URL)
    assert compact.parse_verification_url(shown.url) == shown.bundle


@pytest.mark.parametrize(("size", "points"), [("A4", (595.276, 841.89)), ("A3", (841.89, 1190.55))])
def test_one_portrait_page_of_the_size_asked(
    size: str, points: tuple[float, float], tmp_path: Path
) -> None:
    pages, width, height = page_info(render_poster(poster(), size=size), tmp_path)  # type: ignore[arg-type]
    assert pages == 1
    assert (width, height) == pytest.approx(points, abs=0.05)


@pytest.mark.parametrize("size", ["A4", "A3"])
def test_the_qr_code_is_printed_at_least_12_cm_wide_with_its_quiet_zone(
    size: str, tmp_path: Path
) -> None:
    shown = poster()
    pdf = render_poster(shown, size=size)  # type: ignore[arg-type]
    left, bottom, right, top = filled_rects_mm(pdf)
    width_mm, height_mm = page_mm(size)  # type: ignore[arg-type]
    assert right - left == pytest.approx(top - bottom, abs=0.01)  # square
    factor = width_mm / 210
    assert right - left >= 120 * factor  # 12 cm on A4, proportionally larger on A3
    assert right - left == pytest.approx(QR_WIDTH_A4_MM * factor, abs=0.01)
    assert (left + right) / 2 == pytest.approx(width_mm / 2, abs=0.01)  # centred
    placement = qr_placement(shown.url, size)  # type: ignore[arg-type]
    assert placement.version >= 20 and placement.width_mm == pytest.approx(right - left, abs=0.01)
    # The rendered page agrees: the corners are the finder patterns' black, the quiet zone
    # (4 modules) around them is white, so nothing printed touches the symbol.
    dpi = 150 if size == "A4" else 100
    png = to_png(pdf, tmp_path, dpi)
    m = placement.module_mm
    for x, y in [(left + m / 2, top - m / 2), (right - m / 2, top - m / 2),
                 (left + m / 2, bottom + m / 2)]:  # fmt: skip
        assert ink(png, dpi, height_mm, x, y) < 64
    for x, y in [(left - 2 * m, top), (right + 2 * m, bottom), (left, bottom - 2 * m),
                 (right, top + 2 * m), ((left + right) / 2, top + 3.5 * m),
                 ((left + right) / 2, bottom - 3.5 * m)]:  # fmt: skip
        assert ink(png, dpi, height_mm, x, y) > 240


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_facts_the_notice_and_the_recording_day_in_each_language(
    lang: Language, tmp_path: Path
) -> None:
    shown = poster(lang=lang)
    text = text_of(render_poster(shown, lang=lang), tmp_path)
    decision, valid_until, recorded = DATES[lang]
    assert NAMES[lang] in text
    assert getattr(PERMIT.labels, lang) in text
    for spec in PERMIT.facts:
        assert getattr(spec.labels, lang) in text
    for name in ("reference", "works", "address", "parcel"):
        assert FACTS[name] in text
    assert decision in text and valid_until in text and recorded in text
    assert PERMIT.notice is not None and " ".join(getattr(PERMIT.notice, lang).split()) in text
    assert "verify.anchor.example.lu" in text and BASE_URL in text
    assert "Marie Schmit" not in text  # a private fact is committed, never shown
    for other in set(LANGUAGES) - {lang}:
        assert getattr(PERMIT.labels, other) not in text
    assert "affich" not in text.lower()  # recorded in the registry, not "posted on"


def test_the_kind_of_body_is_named(tmp_path: Path) -> None:
    shown = Poster(permit_bundle(), PERMIT, "SIDEST", IssuerKind.SYNDICATE, BASE_URL)
    assert "Syndicat intercommunal SIDEST" in text_of(render_poster(shown), tmp_path)
    german = text_of(render_poster(shown, lang="de"), tmp_path)
    assert "Gemeindesyndikat SIDEST" in german


def test_accents_and_typography_are_drawn_by_the_embedded_font(tmp_path: Path) -> None:
    facts = FACTS | {"works": "Façade, œil-de-bœuf, Straße, Kälte, 45° — l\u2019annexe « B »"}
    pdf = render_poster(poster(facts))
    assert facts["works"] in text_of(pdf, tmp_path)
    assert b"/FontFile2" in pdf  # TrueType embedded, no unembedded standard font
    assert b"/Helvetica" not in pdf


def test_markup_in_a_fact_is_printed_as_text(tmp_path: Path) -> None:
    facts = FACTS | {"works": "<b>Démolition</b> & <font size=40>reconstruction</font>"}
    assert facts["works"] in text_of(render_poster(poster(facts)), tmp_path)


def test_a_character_the_font_cannot_draw_is_refused_by_name() -> None:
    facts = FACTS | {"address": "1, rue du Parc \u4e2d, L-5326 Contern"}
    with pytest.raises(PosterFontError, match="CJK UNIFIED IDEOGRAPH-4E2D"):
        render_poster(poster(facts))


def test_the_longest_facts_a_permit_takes_still_fit_and_scan(tmp_path: Path) -> None:
    def text(length: int) -> str:  # words of a real address or description, to the limit
        return ("Maçonnerie, rue de l\u2019Étang " * 20)[:length].strip()

    longest = {spec.name: text(spec.max_length) for spec in PERMIT.facts if spec.max_length}
    shown = poster(FACTS | longest)
    pdf = render_poster(shown)
    assert page_info(pdf, tmp_path)[0] == 1
    assert scan_qr(to_png(pdf, tmp_path, 200)) == [shown.url]
    left, _, right, _ = filled_rects_mm(pdf)
    assert right - left >= 120


def test_two_permits_carry_two_urls_each_its_own_facts(tmp_path: Path) -> None:
    """A QR code cut from one poster and glued on another shows the other permit's facts."""
    first = poster()
    second = poster(FACTS | {"reference": "2026/0043", "address": "8, rue Principale, Contern"})
    urls = []
    for shown in (first, second):
        png = to_png(render_poster(shown), tmp_path, 150)
        (url,) = scan_qr(png)
        urls.append(url)
        carried = compact.parse_verification_url(url)
        assert carried.facts == shown.bundle.facts
    assert urls[0] != urls[1]
    assert compact.parse_verification_url(urls[1]).facts["reference"] == "2026/0043"


def test_a_poster_refuses_a_bundle_of_another_type_and_a_bad_page() -> None:
    with pytest.raises(ValueError, match=r"not a lu\.residence-certificate\.v1"):
        Poster(permit_bundle(), RESIDENCE, "Commune de Contern", IssuerKind.COMMUNE, BASE_URL)
    with pytest.raises(ValueError, match="no #"):
        Poster(permit_bundle(), PERMIT, "C", IssuerKind.COMMUNE, BASE_URL + "#x")
    with pytest.raises(ValueError, match="A4 or A3, not 'A5'"):
        render_poster(poster(), size="A5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fr, de or en, not 'lb'"):
        render_poster(poster(), lang="lb")  # type: ignore[arg-type]


def test_the_same_poster_renders_to_the_same_bytes() -> None:
    assert render_poster(poster()) == render_poster(poster())
