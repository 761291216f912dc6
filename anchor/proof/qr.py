"""QR codes of verification URLs, as PNG or SVG (pure: no files, no network).

Error correction level M (15 % of the modules may be damaged) balances robustness on a
weathered site notice against the size of the code; the URL carries the whole proof, so the
code is dense, and a quiet zone of 4 modules keeps it readable.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode.exceptions import DataOverflowError

from anchor.errors import AnchorError

__all__ = ["QrCapacityError", "render_png", "render_svg"]

BORDER = 4
"""Quiet zone, in modules (the minimum the QR standard asks for)."""


class QrCapacityError(AnchorError):
    """The data does not fit in the largest QR code at error correction level M."""


def _code(data: str, box_size: int) -> qrcode.QRCode:
    if not data:
        raise ValueError("nothing to encode")
    if not 1 <= box_size <= 64:
        raise ValueError("box_size must be 1 to 64 pixels per module")
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=BORDER
    )
    code.add_data(data)
    try:
        code.make(fit=True)
    except DataOverflowError as e:
        raise QrCapacityError(
            f"{len(data)} characters do not fit in a QR code at error correction M"
        ) from e
    return code


def render_png(data: str, *, box_size: int = 8) -> bytes:
    """Return a black-on-white PNG of ``data``, ``box_size`` pixels per module."""
    image = _code(data, box_size).make_image()
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def render_svg(data: str, *, box_size: int = 8) -> bytes:
    """Return a standalone SVG (one path, scalable) of ``data``."""
    image = _code(data, box_size).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return bytes(image.to_string(encoding="unicode").encode("utf-8"))
