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


def make_issuer(store: Store, name: str = "Commune de Test", *, body_id: int | None = 1) -> int:
    """A body with two made-up key addresses, onboarded as ``body_id`` (None: not onboarded)."""
    import secrets

    from anchor.store import NewKey
    from anchor.types import IssuerKind, KeyPurpose

    keys = [
        NewKey(purpose, "0x" + secrets.token_hex(20), f"keys/{purpose.value}-{name}.json")
        for purpose in KeyPurpose
    ]
    issuer = store.create_issuer(IssuerKind.COMMUNE, name, keys)
    if body_id is not None:
        store.set_chain_body_id(issuer.id, body_id)
    return issuer.id
