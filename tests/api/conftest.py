"""Fixtures of the API suite: an app on a fresh SQLite store, and keys of each scope."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from anchor.settings import Settings, load_settings
from anchor.store import Store, open_store
from api.app import create_app
from api.config import ApiSettings
from tests.support.api import DEAD_RPC, Keys, MakeClient
from tests.support.store import make_issuer


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite store in the test's directory."""
    opened = open_store(f"sqlite:///{tmp_path}/anchor.db", migrate=True)
    yield opened
    opened.close()


@pytest.fixture
def keys(store: Store) -> Keys:
    """Keys of scope submit, read, submit+read, admin, and one of another integrator."""
    a = store.create_integrator("Commune de Contern", make_issuer(store, "Contern")).id
    b = store.create_integrator("SIGI", make_issuer(store, "SIGI", body_id=2)).id
    return Keys(
        integrator=a,
        submit=store.create_api_key(a, ["submit"])[1],
        read=store.create_api_key(a, ["read"])[1],
        both=store.create_api_key(a, ["submit", "read"])[1],
        admin=store.create_api_key(a, ["admin"])[1],
        other=store.create_api_key(b, ["submit", "read"])[1],
    )


@pytest.fixture
def make_client(store: Store, tmp_path: Path) -> Iterator[MakeClient]:
    """Build a TestClient of an app on ``store``; keyword arguments override settings."""
    clients: list[TestClient] = []

    def make(api: ApiSettings | None = None, **overrides: object) -> TestClient:
        values: dict[str, object] = {"rpc_urls": [DEAD_RPC], "data_dir": tmp_path}
        values.update(overrides)
        settings: Settings = load_settings(**values)
        app: FastAPI = create_app(settings, store, api or ApiSettings())
        client = TestClient(app)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    """A client of an app whose chain cannot be reached."""
    return make_client()
