"""Store helpers: deterministic digests and the URL of an open store."""

from __future__ import annotations

import hashlib

from anchor.store import Store

TEST_PEPPER = b"pepper of the store tests, 32 b."
"""The Idempotency-Key pepper of the store suite's stores (`anchor.store.pepper`)."""


def url_of(store: Store) -> str:
    """The URL the store was opened with (to open a second, independent engine)."""
    return store.engine.url.render_as_string(hide_password=False)


def digest_hex(n: int) -> str:
    """A deterministic, distinct SHA-256 hex digest."""
    return hashlib.sha256(f"document {n}".encode()).hexdigest()
