"""Integrators and their API keys.

A key reads ``ak_<prefix>_<secret>``: the prefix (12 hex characters) is shown to humans and
indexes the key; the secret is 256 random bits. Only the SHA-256 of the whole key is stored,
so the key is shown once, at creation, and a database leak does not reveal it. A plain hash
(not a slow KDF) is enough because the secret is random, not chosen by a person.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from sqlalchemy import select

from anchor.store import models as m
from anchor.store._base import StoreBase
from anchor.store.errors import NotFoundError, StoreError
from anchor.store.records import ApiKey, Integrator

KEY_TAG = "ak"
PREFIX_HEX_CHARS = 12


def hash_secret(secret: str) -> bytes:
    """The stored form of an API key: SHA-256 of its UTF-8 text."""
    return hashlib.sha256(secret.encode()).digest()


def _split_key(secret: str) -> str | None:
    """Return the prefix of a well-formed key, or None."""
    tag, _, rest = secret.partition("_")
    prefix, _, body = rest.partition("_")
    if tag != KEY_TAG or len(prefix) != PREFIX_HEX_CHARS or not body:
        return None
    return prefix


class KeysMixin(StoreBase):
    """Integrators and API keys; see `anchor.store.Store`."""

    def create_integrator(self, name: str) -> Integrator:
        """Create an integrator with a unique, non-empty ``name``."""
        if not name.strip():
            raise StoreError("an integrator needs a non-empty name")
        with self.transaction() as session:
            if session.scalar(select(m.Integrator.id).where(m.Integrator.name == name)):
                raise StoreError(f"an integrator named {name!r} already exists")
            row = m.Integrator(name=name, created_at=m.utcnow())
            session.add(row)
            session.flush()
            return Integrator(row.id, row.name, row.created_at)

    def get_integrator(self, integrator_id: int) -> Integrator | None:
        """Return the integrator, or None."""
        with self.reading() as session:
            row = session.get(m.Integrator, integrator_id)
            return None if row is None else Integrator(row.id, row.name, row.created_at)

    def create_api_key(self, integrator_id: int, scopes: Iterable[str]) -> tuple[int, str]:
        """Create a key for the integrator; return ``(key_id, secret)``.

        The secret ``ak_<prefix>_<random>`` is returned only here: store it at once.
        """
        scope_list = sorted(set(scopes))
        if any(not isinstance(s, str) or not s for s in scope_list):
            raise StoreError("scopes must be non-empty strings")
        prefix = secrets.token_hex(PREFIX_HEX_CHARS // 2)
        secret = f"{KEY_TAG}_{prefix}_{secrets.token_urlsafe(32)}"
        with self.transaction() as session:
            if session.get(m.Integrator, integrator_id) is None:
                raise NotFoundError(f"no integrator {integrator_id}")
            row = m.ApiKey(
                integrator_id=integrator_id,
                prefix=prefix,
                secret_hash=hash_secret(secret),
                scopes=scope_list,
                created_at=m.utcnow(),
            )
            session.add(row)
            session.flush()
            return row.id, secret

    def authenticate(self, secret: str) -> ApiKey | None:
        """Return the live key whose secret this is; None if unknown, malformed or revoked."""
        prefix = _split_key(secret)
        if prefix is None:
            return None
        with self.reading() as session:
            row = session.scalar(select(m.ApiKey).where(m.ApiKey.prefix == prefix))
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(bytes(row.secret_hash), hash_secret(secret)):
                return None
            return ApiKey.of(row)

    def list_api_keys(self, integrator_id: int | None = None) -> list[ApiKey]:
        """Return every key (revoked ones included), oldest first, optionally of one integrator."""
        query = select(m.ApiKey).order_by(m.ApiKey.id)
        if integrator_id is not None:
            query = query.where(m.ApiKey.integrator_id == integrator_id)
        with self.reading() as session:
            return [ApiKey.of(row) for row in session.scalars(query)]

    def revoke_api_key(self, key_id: int) -> ApiKey:
        """Revoke a key (idempotent: keeps the first revocation time); NotFoundError if unknown."""
        with self.transaction() as session:
            row = session.get(m.ApiKey, key_id)
            if row is None:
                raise NotFoundError(f"no API key {key_id}")
            if row.revoked_at is None:
                row.revoked_at = m.utcnow()
            return ApiKey.of(row)
