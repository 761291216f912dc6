"""With the database down, clients read short generic sentences; the driver's message (host,
port) goes to the log and to the internal port, never a digest or an Idempotency-Key."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from anchor.settings import load_settings
from anchor.store import ApiKey, open_store
from api.app import create_app
from api.config import ApiSettings
from api.internal import create_internal_app
from tests.support.api import DEAD_RPC
from tests.support.live import live_server

DEAD_DB = "postgresql+psycopg://anchor@127.0.0.1:1/anchor"
"""A PostgreSQL URL nothing listens on: the driver names the host and port in its error."""
DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
IDEMPOTENCY_KEY = "permis-jean-dupont-2026-0042"
LEAKS = ("127.0.0.1", "port 1", "psycopg", "connection", "Connection refused")


def no_leak(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text, (leak, text)


@pytest.fixture
def down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """An app whose store is unreachable; one API key is taken as verified in memory."""
    store = open_store(DEAD_DB, key_pepper=b"pepper of the dead-database test")
    live = ApiKey(1, 1, "0" * 12, ("admin",), datetime.now(UTC), None, issuer_id=1)
    monkeypatch.setattr(store, "cached_api_key", lambda secret: live if secret == "ak_ok" else None)
    settings = load_settings(rpc_urls=[DEAD_RPC], data_dir=tmp_path, rpc_timeout=1)
    return TestClient(create_app(settings, store, ApiSettings()))


def test_database_down_tells_clients_nothing_internal(
    down: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    auth = {"Authorization": "Bearer ak_ok"}
    with caplog.at_level(logging.WARNING):
        ready = down.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {
            "status": "unavailable",
            "store": "unavailable",
            "chain": "unavailable",
        }
        assert down.get("/metrics").status_code == 404
        answers = [
            down.post(
                "/v1/receipts",
                json={"digests": [DIGEST]},
                headers=auth | {"Idempotency-Key": IDEMPOTENCY_KEY},
            ),
            down.get("/v1/receipts/Qm9uam91ciBsZSBtb25kZQ", headers=auth),
            down.delete("/v1/receipts/Qm9uam91ciBsZSBtb25kZQ", headers=auth),
            down.get("/v1/receipts/x", headers={"Authorization": "Bearer ak_000000000000_x"}),
        ]
        for r in answers:
            assert r.status_code == 503, r.text
            assert r.json() == {"detail": "the store cannot be reached now; retry later"}
        for r in [ready, *answers]:
            no_leak(r.text)
        internal = TestClient(create_internal_app(down.app))  # type: ignore[arg-type]
        scrape = internal.get("/metrics")
        assert scrape.status_code == 503
        assert scrape.json() == {"detail": "the store cannot be reached now; retry later"}
        detailed = internal.get("/readyz").json()
        assert detailed["status"] == "unavailable" and "port 1" in detailed["store"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "port 1" in logged  # the operator reads the detail in the log
    assert DIGEST not in logged and IDEMPOTENCY_KEY not in logged
    assert "/v1/receipts/{receipt_id}" in logged and "Qm9uam91ciBsZSBtb25kZQ" not in logged


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_metrics_and_detailed_readiness_on_the_internal_port(tmp_path: Path) -> None:
    port = free_port()
    with live_server(tmp_path, ANCHOR_INTERNAL_PORT=str(port)) as server:
        assert httpx.get(f"{server.url}/metrics").status_code == 404
        public = httpx.get(f"{server.url}/readyz").json()
        assert public == {"status": "unavailable", "store": "ok", "chain": "unavailable"}
        internal = f"http://127.0.0.1:{port}"
        metrics = httpx.get(f"{internal}/metrics")
        assert metrics.status_code == 200 and "anchor_pending_digests" in metrics.text
        assert 'route="/readyz",status="503"' in metrics.text
        detailed = httpx.get(f"{internal}/readyz").json()
        assert detailed["store"] == "ok" and "node 1 did not answer" in detailed["chain"]
        assert httpx.get(f"{internal}/openapi.json").status_code == 404
    with socket.socket() as s:  # the internal server stopped with the public one
        assert s.connect_ex(("127.0.0.1", port)) != 0
