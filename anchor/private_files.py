"""Files that hold secrets: read only when private to their owner, created private.

A keystore, a password file or the idempotency pepper readable by the group or by others is
refused with one sentence that says how to fix it (``chmod 600``); files anchor creates for
secrets (and the SQLite database) are created with mode 0600 from the start, never chmod-ed
after the fact.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from anchor.errors import ConfigError

__all__ = ["check_private", "create_private", "read_private_bytes", "read_private_text"]


def check_private(path: Path, what: str) -> None:
    """Refuse ``path`` when the group or others may read or write it."""
    try:
        mode = path.stat().st_mode
    except OSError as e:
        raise ConfigError(f"cannot read the {what} {path}: {e.strerror}") from e
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"the {what} {path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
            f"run `chmod 600 {path}`"
        )


def read_private_text(path: Path, what: str) -> str:
    """The text of a private file (see `check_private`)."""
    check_private(path, what)
    try:
        return path.read_text()
    except OSError as e:
        raise ConfigError(f"cannot read the {what} {path}: {e.strerror}") from e


def read_private_bytes(path: Path, what: str) -> bytes:
    """The bytes of a private file (see `check_private`)."""
    check_private(path, what)
    try:
        return path.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read the {what} {path}: {e.strerror}") from e


def create_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file of mode 0600; refuse to overwrite an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
