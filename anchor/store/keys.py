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
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy import Engine, select, update

from anchor.errors import InvalidInputError
from anchor.store import models as m
from anchor.store._base import StoreBase
from anchor.store.errors import NotFoundError
from anchor.store.pepper import KeyHasher
from anchor.store.records import ApiKey, Integrator

KEY_TAG = "ak"
PREFIX_HEX_CHARS = 12
AUTH_CACHE_SECONDS = 5.0
"""How long `KeysMixin.authenticate_cached` trusts a live key it verified (the API's default).

A revocation made through the same `Store` takes effect at once; one made elsewhere (another
process, such as ``anchor keys revoke``, or another `Store` on the same database) within this
delay."""
AUTH_CACHE_SIZE = 1024
"""Live keys remembered by `KeysMixin.authenticate_cached` at most (least recently used go)."""


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

    def __init__(self, engine: Engine, key_hasher: KeyHasher | None = None) -> None:
        """Use ``engine``; start with an empty cache of verified keys."""
        super().__init__(engine, key_hasher)
        # SHA-256 of the secret -> (the live key, monotonic time it was verified).
        self._auth_cache: OrderedDict[bytes, tuple[ApiKey, float]] = OrderedDict()
        self._auth_lock = threading.Lock()
        self._auth_generation = 0  # bumped by every revocation through this store

    def create_integrator(self, name: str, issuer_id: int | None = None) -> Integrator:
        """Create an integrator with a unique, non-empty ``name``, for the body ``issuer_id``.

        Without a body it can read but not submit (the API answers 403); NotFoundError for an
        unknown body.
        """
        if not name.strip():
            raise InvalidInputError("an integrator needs a non-empty name")
        with self._transaction() as session:
            if issuer_id is not None and session.get(m.Issuer, issuer_id) is None:
                raise NotFoundError(
                    f"no issuing body {issuer_id}: see `anchor issuers list`, or add one with "
                    "`anchor issuers add`"
                )
            if session.scalar(select(m.Integrator.id).where(m.Integrator.name == name)):
                raise InvalidInputError(f"an integrator named {name!r} already exists")
            row = m.Integrator(name=name, created_at=m.utcnow(), issuer_id=issuer_id)
            session.add(row)
            session.flush()
            return Integrator(row.id, row.name, row.created_at, row.issuer_id)

    def bind_integrator(self, integrator_id: int, issuer_id: int) -> Integrator:
        """Give an integrator made before bodies its body (idempotent for the same body).

        Its digests still pending from before (taken without a body) become that body's, so
        they are batched and anchored under it. InvalidInputError when it belongs to another
        body already: an integrator belongs to exactly one, forever. NotFoundError for an
        unknown integrator or body.
        """
        with self._transaction() as session:
            row = session.get(m.Integrator, integrator_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no integrator {integrator_id}")
            if session.get(m.Issuer, issuer_id) is None:
                raise NotFoundError(f"no issuing body {issuer_id}: see `anchor issuers list`")
            if row.issuer_id not in (None, issuer_id):
                raise InvalidInputError(
                    f"integrator {integrator_id} belongs to issuing body {row.issuer_id}, not "
                    f"{issuer_id}: an integrator submits for one body only; make a new one "
                    "with --new-integrator"
                )
            row.issuer_id = issuer_id
            session.execute(
                update(m.Receipt)
                .where(
                    m.Receipt.integrator_id == integrator_id,
                    m.Receipt.issuer_id.is_(None),
                    m.PENDING_ONLY,
                )
                .values(issuer_id=issuer_id)
            )
            return Integrator(row.id, row.name, row.created_at, row.issuer_id)

    def get_integrator(self, integrator_id: int) -> Integrator | None:
        """Return the integrator, or None."""
        with self._reading() as session:
            row = session.get(m.Integrator, integrator_id)
            if row is None:
                return None
            return Integrator(row.id, row.name, row.created_at, row.issuer_id)

    def create_api_key(self, integrator_id: int, scopes: Iterable[str]) -> tuple[int, str]:
        """Create a key for the integrator; return ``(key_id, secret)``.

        The secret ``ak_<prefix>_<random>`` is returned only here: store it at once.
        """
        scope_list = sorted(set(scopes))
        if any(not isinstance(s, str) or not s for s in scope_list):
            raise InvalidInputError("scopes must be non-empty strings")
        prefix = secrets.token_hex(PREFIX_HEX_CHARS // 2)
        secret = f"{KEY_TAG}_{prefix}_{secrets.token_urlsafe(32)}"
        with self._transaction() as session:
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
        query = (
            select(m.ApiKey, m.Integrator.issuer_id)
            .join(m.Integrator, m.Integrator.id == m.ApiKey.integrator_id)
            .where(m.ApiKey.prefix == prefix)
        )
        with self._reading() as session:
            found = session.execute(query).first()
            if found is None:
                return None
            row, issuer_id = found
            if row.revoked_at is not None:
                return None
            if not hmac.compare_digest(bytes(row.secret_hash), hash_secret(secret)):
                return None
            return ApiKey.of(row, issuer_id)

    def authenticate_cached(
        self, secret: str, max_age: float = AUTH_CACHE_SECONDS
    ) -> ApiKey | None:
        """`authenticate`, answered from memory for a live key verified in the last ``max_age`` s.

        Only live keys are remembered (an unknown, malformed or revoked one is read from the
        database every time), by the SHA-256 of the secret, at most `AUTH_CACHE_SIZE` of them.
        `revoke_api_key` on this store forgets the key at once; a revocation made elsewhere
        (another process or store) is honoured within ``max_age`` seconds.
        """
        digest = hash_secret(secret)
        now = time.monotonic()
        with self._auth_lock:
            hit = self._cache_hit(digest, now, max_age)
            if hit is not None:
                return hit
            generation = self._auth_generation
        key = self.authenticate(secret)
        with self._auth_lock:
            if key is None:
                self._auth_cache.pop(digest, None)
            elif generation == self._auth_generation:  # no revocation raced the read
                self._auth_cache[digest] = (key, now)
                self._auth_cache.move_to_end(digest)
                while len(self._auth_cache) > AUTH_CACHE_SIZE:
                    self._auth_cache.popitem(last=False)
        return key

    def cached_api_key(self, secret: str, max_age: float = AUTH_CACHE_SECONDS) -> ApiKey | None:
        """The live key `authenticate_cached` would answer from memory now; None otherwise.

        Never touches the database (so it may run on an event loop); on None, call
        `authenticate_cached`, which reads the database.
        """
        with self._auth_lock:
            return self._cache_hit(hash_secret(secret), time.monotonic(), max_age)

    def _cache_hit(self, digest: bytes, now: float, max_age: float) -> ApiKey | None:
        """The fresh cached key of ``digest``, or None; the caller holds the lock."""
        hit = self._auth_cache.get(digest)
        if hit is None or not now - hit[1] < max_age:
            return None
        self._auth_cache.move_to_end(digest)
        return hit[0]

    def list_api_keys(self, integrator_id: int | None = None) -> list[ApiKey]:
        """Return every key (revoked ones included), oldest first, optionally of one integrator."""
        query = (
            select(m.ApiKey, m.Integrator.issuer_id)
            .join(m.Integrator, m.Integrator.id == m.ApiKey.integrator_id)
            .order_by(m.ApiKey.id)
        )
        if integrator_id is not None:
            query = query.where(m.ApiKey.integrator_id == integrator_id)
        with self._reading() as session:
            return [ApiKey.of(row, issuer) for row, issuer in session.execute(query)]

    def revoke_api_key(self, key_id: int) -> ApiKey:
        """Revoke a key (idempotent: keeps the first revocation time); NotFoundError if unknown."""
        with self._transaction() as session:
            row = session.get(m.ApiKey, key_id)
            if row is None:
                raise NotFoundError(f"no API key {key_id}")
            if row.revoked_at is None:
                row.revoked_at = m.utcnow()
            integrator = session.get(m.Integrator, row.integrator_id)
            key = ApiKey.of(row, None if integrator is None else integrator.issuer_id)
        self._forget_key(key_id)
        return key

    def _forget_key(self, key_id: int) -> None:
        """Drop a key from the cache of `authenticate_cached` (after its revocation committed)."""
        with self._auth_lock:
            self._auth_generation += 1
            for digest in [d for d, (k, _) in self._auth_cache.items() if k.id == key_id]:
                del self._auth_cache[digest]
