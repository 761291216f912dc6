"""The pepper of idempotency keys: a secret kept OUTSIDE the database.

An Idempotency-Key is free text chosen by the integrator and in practice often a file number
with a person's name in it ("permis-jean-dupont-2026-0042"). The store never writes it: it
stores ``HMAC-SHA256(pepper, integrator id, key)``, which the database alone cannot turn back
into the key, not even by guessing names, because the pepper is not in it. Erasing a receipt
then leaves no trace of the key in the store's files, while a retry of the erased request is
still recognised (and refused).

Where the pepper comes from: ``ANCHOR_IDEMPOTENCY_PEPPER_FILE`` (a file of mode 0600, at least
16 bytes; every API process of one store must read the same file); without it, for a SQLite
store, a file beside the database (``anchor.db.pepper``) made on first use. A PostgreSQL store
needs the setting.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from pathlib import Path

from anchor.errors import ConfigError
from anchor.private_files import create_private, read_private_bytes

__all__ = ["MIN_PEPPER_BYTES", "KeyHasher", "pepper_beside"]

MIN_PEPPER_BYTES = 16
_TOKEN_PREFIX = "k1:"  # noqa: S105 (a format tag, not a secret)


class KeyHasher:
    """Turns an integrator's Idempotency-Key into the token the store keeps."""

    def __init__(self, pepper: bytes | None) -> None:
        """Hash with ``pepper``; None means "not configured" and refuses to hash."""
        if pepper is not None and len(pepper) < MIN_PEPPER_BYTES:
            raise ConfigError(f"the idempotency pepper must be at least {MIN_PEPPER_BYTES} bytes")
        self._pepper = pepper

    @property
    def configured(self) -> bool:
        """Whether a pepper is set."""
        return self._pepper is not None

    def token(self, integrator_id: int, key: str) -> str:
        """The stored form of ``key``: ``k1:`` and 64 hex digits."""
        if self._pepper is None:
            raise ConfigError(
                "Idempotency-Keys need a pepper: set ANCHOR_IDEMPOTENCY_PEPPER_FILE "
                "(a private file of random bytes, the same for every API process)"
            )
        message = f"{integrator_id}\x00{key}".encode()
        return _TOKEN_PREFIX + hmac.new(self._pepper, message, hashlib.sha256).hexdigest()

    def fingerprint(self, content: bytes) -> bytes:
        """A keyed hash of a request's content, for its idempotency record.

        The content of a typed document holds its private facts; a plain SHA-256 of them would
        let anyone holding the database test guesses (a name, a birth date) against the record.
        """
        if self._pepper is None:
            raise ConfigError("a request fingerprint needs the idempotency pepper")
        message = b"anchor/fingerprint\x00" + content
        return hmac.new(self._pepper, message, hashlib.sha256).digest()


def pepper_beside(database: Path) -> bytes:
    """The pepper file beside a SQLite database, made (32 random bytes, mode 0600) if missing."""
    path = database.with_name(database.name + ".pepper")
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process made it first
            create_private(path, secrets.token_bytes(32))
    return read_private_bytes(path, "idempotency pepper")
