"""QR codes of verification URLs, as PNG or SVG (pure: no files, no network).

Error correction level M (15 % of the modules may be damaged) is the default; a poster on a
building site, exposed to weather and dirt, uses Q (25 %). The URL carries the whole proof, so
the code is dense, and a quiet zone of 4 modules keeps it readable.

A version 2 URL (``https://host/verify#v2.<digits>``) is encoded as two segments: the head up
to ``v2.`` in byte mode, then the digits in numeric mode (10 bits for 3 digits), which packs
the payload at about 8.1 bits a byte instead of 10.7 for base64url in byte mode.
"""

from __future__ import annotations

import io
import re
from typing import Literal

import qrcode
import qrcode.image.svg
from qrcode.exceptions import DataOverflowError
from qrcode.util import MODE_8BIT_BYTE, MODE_NUMBER, QRData

from anchor.errors import AnchorError

__all__ = [
    "ErrorCorrection",
    "QrCapacityError",
    "qr_modules",
    "qr_version",
    "render_png",
    "render_svg",
]

ErrorCorrection = Literal["L", "M", "Q", "H"]
_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
_DIGITS_TAIL = re.compile(r"(?P<head>.*#v2\.)(?P<digits>[0-9]+)", re.DOTALL)

BORDER = 4
"""Quiet zone, in modules (the minimum the QR standard asks for)."""


class QrCapacityError(AnchorError):
    """The data does not fit in the largest QR code at the error correction level asked."""


def _code(data: str, box_size: int, level: ErrorCorrection) -> qrcode.QRCode:
    if not data:
        raise ValueError("nothing to encode")
    if not 1 <= box_size <= 64:
        raise ValueError("box_size must be 1 to 64 pixels per module")
    code = qrcode.QRCode(error_correction=_LEVELS[level], box_size=box_size, border=BORDER)
    if match := _DIGITS_TAIL.fullmatch(data):
        code.add_data(QRData(match["head"].encode("utf-8"), mode=MODE_8BIT_BYTE))
        code.add_data(QRData(match["digits"], mode=MODE_NUMBER))
    else:
        code.add_data(data)
    try:
        code.make(fit=True)
    except DataOverflowError as e:
        raise QrCapacityError(
            f"{len(data)} characters do not fit in a QR code at error correction {level}"
        ) from e
    return code


def qr_version(data: str, level: ErrorCorrection = "M") -> int:
    """The smallest QR version (1 to 40) holding ``data`` at ``level``, as rendered here."""
    return int(_code(data, 1, level).version)


def qr_modules(data: str, level: ErrorCorrection = "M") -> tuple[tuple[bool, ...], ...]:
    """The symbol of ``data`` at ``level`` as rows of modules (True: dark), quiet zone excluded.

    For a renderer that draws the modules itself (the poster's PDF); it must leave `BORDER`
    light modules around them.
    """
    matrix = _code(data, 1, level).get_matrix()
    inner = matrix[BORDER : len(matrix) - BORDER]
    return tuple(tuple(bool(m) for m in row[BORDER : len(row) - BORDER]) for row in inner)


def render_png(data: str, *, box_size: int = 8, level: ErrorCorrection = "M") -> bytes:
    """Return a black-on-white PNG of ``data``, ``box_size`` pixels per module."""
    image = _code(data, box_size, level).make_image()
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def render_svg(data: str, *, box_size: int = 8, level: ErrorCorrection = "M") -> bytes:
    """Return a standalone SVG (one path, scalable) of ``data``."""
    image = _code(data, box_size, level).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return bytes(image.to_string(encoding="unicode").encode("utf-8"))
