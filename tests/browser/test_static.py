"""Checks of the verification page's files that need no browser: the vendored js-sha3 copy, the
three languages, colour contrast and the rule that the page loads nothing from elsewhere."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "api" / "static"
PAGE = STATIC / "verify"
VENDORED = STATIC / "vendor" / "sha3.min.js"
UPSTREAM = ROOT / "node_modules" / "js-sha3" / "build" / "sha3.min.js"


def test_vendored_js_sha3_is_the_npm_build() -> None:
    """api/static/vendor/sha3.min.js is byte for byte the locked npm package's build."""
    if not UPSTREAM.exists():
        pytest.skip("node_modules/js-sha3 is not installed (run npm ci)")
    assert VENDORED.read_bytes() == UPSTREAM.read_bytes()
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/js-sha3"]["version"] in VENDORED.read_text()[:300]
    assert "@license MIT" in VENDORED.read_text()[:300]
    assert (STATIC / "vendor" / "js-sha3.LICENSE.txt").exists()


def _texts() -> dict[str, dict[str, str]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        "globalThis.window = {};"
        f"require({str(PAGE / 'i18n.js')!r});"
        "process.stdout.write(JSON.stringify(window.ANCHOR_I18N));"
    )
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    texts: dict[str, dict[str, str]] = json.loads(out.stdout)
    return texts


def test_three_languages_with_the_same_keys() -> None:
    texts = _texts()
    assert list(texts) == ["fr", "de", "en"]
    keys = set(texts["fr"])
    for lang, table in texts.items():
        assert set(table) == keys, lang
        for key, text in table.items():
            assert text.strip(), (lang, key)
            # Same placeholders in every language.
            assert set(re.findall(r"\{\w+\}", text)) == set(
                re.findall(r"\{\w+\}", texts["fr"][key])
            ), (lang, key)


def test_every_text_the_page_names_exists() -> None:
    """Every data-i18n key of the HTML and every literal key in verify.js has a text."""
    keys = set(_texts()["fr"])
    html = (PAGE / "index.html").read_text()
    js = (PAGE / "verify.js").read_text()
    used = set(re.findall(r'data-i18n="([\w.]+)"', html))
    prefixes = "reason|unavailable|summary|verdict|document|details|body|issuer|history|host"
    used |= set(re.findall(rf'"((?:{prefixes})\.\w+)"', js))
    assert used, "no keys found"
    assert used <= keys, used - keys
    for state in (
        "valid",
        "validUntil",
        "expired",
        "suspended",
        "revoked",
        "superseded",
        "invalid",
        "unavailable",
        "checking",
        "none",
    ):
        assert f"verdict.{state}" in keys
    for status in ("reading", "match", "mismatch", "error"):
        assert f"document.{status}" in keys
    # The registry's body kinds and statuses (docs/registry.md), and the CLI's labels of them.
    from anchor.cli.verify import KIND_LABELS
    from anchor.verify.verdict import BODY_KINDS, BODY_STATUSES

    texts = _texts()
    for kind in BODY_KINDS:
        for lang in ("fr", "de", "en"):
            assert texts[lang][f"kind.{kind}"] == KIND_LABELS[lang][kind].replace("'", "\u2019")
    for status in BODY_STATUSES:
        assert f"bodyStatus.{status}" in keys
    for status in ("suspended", "retired"):
        assert f"body.{status}" in keys


def test_page_loads_only_files_of_this_site() -> None:
    """No CDN: every src and href is a path of the app (or a fragment)."""
    html = (PAGE / "index.html").read_text()
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert refs
    for ref in refs:
        assert ref.startswith(("/static/", "#")), ref
    for name in ("verify.js", "statement.js", "i18n.js", "style.css"):
        assert "http://" not in (PAGE / name).read_text()
        assert "https://" not in (PAGE / name).read_text()


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_colours_have_aa_contrast() -> None:
    """Every text/background pair the stylesheet uses reaches 4.5:1 (WCAG AA, normal text)."""
    css = (PAGE / "style.css").read_text()
    var = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    white = "#ffffff"
    pairs = [
        (var["text"], var["bg"]),
        (var["muted"], var["bg"]),
        (var["text"], var["card"]),
        (var["muted"], var["card"]),
        (var["accent"], var["bg"]),  # language buttons, focus ring
        (white, var["accent"]),  # pressed language, buttons
        (white, var["valid-bg"]),
        (white, var["invalid-bg"]),
        (white, var["expired-bg"]),
        (white, var["suspended-bg"]),
        (white, var["revoked-bg"]),
        (white, var["superseded-bg"]),
        (var["unavailable-text"], var["unavailable-bg"]),
        (var["unavailable-text"], white),  # retry button
        (var["text"], var["neutral-bg"]),
        (var["valid-bg"], var["card"]),  # document match
        (var["invalid-bg"], var["card"]),  # document mismatch
    ]
    for fg, bg in pairs:
        assert contrast(fg, bg) >= 4.5, (fg, bg, round(contrast(fg, bg), 2))
