"""Scan images as a phone would read a QR code: zbarimg (Debian zbar-tools), QR symbology only.

zbarimg tries every symbology it knows by default, and a QR code's modules can also read as a
short linear barcode: a scan once printed the URL and a spurious ``791001`` (CI, session 12).
Restricting the scan to QR codes (``-Sdisable -Sqrcode.enable``) keeps such ghosts out, so a
test can ask for exactly one code. ``make system-deps`` installs zbarimg; a test that needs it
fails when it is missing rather than passing untested.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

QR_ONLY = ("--raw", "-q", "-Sdisable", "-Sqrcode.enable")
"""zbarimg's options: the decoded text alone, no summary, QR codes only."""


def zbarimg() -> str:
    """zbarimg's path, or fail the test saying which Debian package brings it."""
    found = shutil.which("zbarimg")
    if found is None:
        pytest.fail("zbarimg (Debian zbar-tools) is not installed: run make system-deps")
    return found


def scan_qr(png: Path) -> list[str]:
    """The text of every QR code zbarimg finds in the image, in its order (empty if none)."""
    command = [zbarimg(), *QR_ONLY, str(png)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 4):  # 4: zbarimg ran and found no symbol
        raise AssertionError(f"zbarimg failed ({done.returncode}): {done.stderr.strip()}")
    return [line for line in done.stdout.splitlines() if line]
