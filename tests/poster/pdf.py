"""Read a poster as a person's tools would: poppler renders and extracts it (zbar scans its QR
code: `tests.support.qr`).

`pdftoppm`, `pdftotext` and `pdfinfo` (Debian poppler-utils) are installed by
``make system-deps``; a test needing one that is missing is skipped by name.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from PIL import Image

MM_PER_INCH = 25.4


def tool(name: str) -> str:
    """The path of ``name``, or skip the test saying which Debian package brings it."""
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} (Debian poppler-utils) is not installed: run make system-deps")
    return found


def to_png(pdf: bytes, folder: Path, dpi: int) -> Path:
    """Render the PDF's only page at ``dpi`` with pdftoppm; return the PNG's path."""
    source = folder / "poster.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [
            tool("pdftoppm"),
            "-r",
            str(dpi),
            "-png",
            "-singlefile",
            str(source),
            str(folder / "page"),
        ],
        check=True,
    )
    return folder / "page.png"


def text_of(pdf: bytes, folder: Path) -> str:
    """The PDF's text by pdftotext, whitespace collapsed to single spaces."""
    source = folder / "text.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(
        [tool("pdftotext"), "-enc", "UTF-8", str(source), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return " ".join(done.stdout.split())


def page_info(pdf: bytes, folder: Path) -> tuple[int, float, float]:
    """Pages, and the first page's width and height in points, by pdfinfo."""
    source = folder / "info.pdf"
    source.write_bytes(pdf)
    out = subprocess.run(
        [tool("pdfinfo"), str(source)], capture_output=True, text=True, check=True
    ).stdout
    pages = re.search(r"^Pages:\s+(\d+)", out, re.MULTILINE)
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", out, re.MULTILINE)
    assert pages and size, out
    return int(pages[1]), float(size[1]), float(size[2])


def _content_streams(pdf: bytes) -> list[bytes]:
    """The decompressed streams of the file (reportlab: Flate, the page ASCII85 around it)."""
    out = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.DOTALL):
        data = match[1].strip()
        if data.endswith(b"~>"):  # the page: ASCII85 around Flate
            data = base64.a85decode(data, adobe=True)
        try:
            out.append(zlib.decompressobj().decompress(data))
        except zlib.error:
            continue
    return out


def filled_rects_mm(pdf: bytes) -> tuple[float, float, float, float]:
    """The box (left, bottom, right, top in mm from the page's lower left) of every rectangle
    the page draws with ``re``, in page space (``cm`` scales and moves, ``q``/``Q`` nest).

    The poster draws no rectangle but the QR code's modules, so this is the printed symbol.
    """
    boxes = []
    for stream in _content_streams(pdf):
        if b" re" not in stream:
            continue
        stack: list[float] = []
        ctm = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
        saved: list[tuple[float, ...]] = []
        for token in stream.split():
            try:
                stack.append(float(token))
                continue
            except ValueError:
                pass
            if token == b"q":
                saved.append(ctm)
            elif token == b"Q" and saved:
                ctm = saved.pop()  # type: ignore[assignment]
            elif token == b"cm" and len(stack) >= 6:
                a, b, c, d, e, f = stack[-6:]
                ka, kb, kc, kd, ke, kf = ctm
                ctm = (a * ka + b * kc, a * kb + b * kd, c * ka + d * kc, c * kb + d * kd,
                       e * ka + f * kc + ke, e * kb + f * kd + kf)  # fmt: skip
            elif token == b"re" and len(stack) >= 4:
                x, y, w, h = stack[-4:]
                ka, _, _, kd, ke, kf = ctm  # no rotation on the poster
                boxes.append((ka * x + ke, kd * y + kf, ka * (x + w) + ke, kd * (y + h) + kf))
            stack.clear()
    assert boxes, "the page draws no rectangle: no QR code"
    pt = MM_PER_INCH / 72
    return (
        min(b[0] for b in boxes) * pt,
        min(b[1] for b in boxes) * pt,
        max(b[2] for b in boxes) * pt,
        max(b[3] for b in boxes) * pt,
    )


def ink(png: Path, dpi: int, page_height_mm: float, x_mm: float, y_mm: float) -> int:
    """Grey level (0 black, 255 white) of the rendered page at (x, y) mm from its lower left."""
    image = Image.open(png).convert("L")
    px = dpi / MM_PER_INCH
    value = image.getpixel((int(x_mm * px), int((page_height_mm - y_mm) * px)))
    assert isinstance(value, int)
    return value
