"""Integrators and API keys: hashed secrets, revocation."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text

from anchor.errors import InvalidInputError
from anchor.store import NotFoundError, Store


def test_key_secret_is_shown_once_and_only_hashed(store: Store, integrator_id: int) -> None:
    key_id, secret = store.create_api_key(integrator_id, ["submit", "read", "submit"])
    tag, prefix, body = secret.split("_", 2)
    assert tag == "ak" and len(prefix) == 12 and len(body) >= 43
    key = store.authenticate(secret)
    assert key is not None and key.id == key_id and key.prefix == prefix
    assert key.integrator_id == integrator_id and key.scopes == ("read", "submit")
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_keys")).all()
    dump = repr(rows)
    assert body not in dump and secret not in dump
    stored_hash = bytes(rows[0]._mapping["secret_hash"])
    assert stored_hash == hashlib.sha256(secret.encode()).digest()


@pytest.mark.parametrize(
    "wrong", ["", "ak_", "nonsense", "ak_000000000000_x", "bk_{p}_{b}", "ak_{p}_{b}x", "ak_{p}_"]
)
def test_wrong_secrets_do_not_authenticate(store: Store, integrator_id: int, wrong: str) -> None:
    _, secret = store.create_api_key(integrator_id, ["submit"])
    _, prefix, body = secret.split("_", 2)
    assert store.authenticate(wrong.format(p=prefix, b=body)) is None


def test_revoked_key_fails(store: Store, integrator_id: int) -> None:
    key_id, secret = store.create_api_key(integrator_id, ["submit"])
    other_id, other_secret = store.create_api_key(integrator_id, ["submit"])
    revoked = store.revoke_api_key(key_id)
    assert revoked.revoked_at is not None
    assert store.revoke_api_key(key_id).revoked_at == revoked.revoked_at  # idempotent
    assert store.authenticate(secret) is None
    assert store.authenticate(other_secret) is not None
    listed = {k.id: k for k in store.list_api_keys()}
    assert listed[key_id].revoked_at is not None and listed[other_id].revoked_at is None
    assert [k.id for k in store.list_api_keys(integrator_id)] == [key_id, other_id]


def test_unknown_ids(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.create_api_key(12345, ["submit"])
    with pytest.raises(NotFoundError):
        store.revoke_api_key(12345)


def test_integrator_names_are_unique(store: Store) -> None:
    created = store.create_integrator("Syndicat")
    assert store.get_integrator(created.id) == created
    with pytest.raises(InvalidInputError, match="already exists"):
        store.create_integrator("Syndicat")
    with pytest.raises(InvalidInputError, match="non-empty"):
        store.create_integrator("  ")
