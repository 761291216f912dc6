"""Every acknowledged submission survives the API process killed with SIGKILL under load.

The submit routes answer 202 only once the group commit holding their rows has committed (the
event loop awaits the committer's future: `anchor.store.group.GroupCommit.submit`). A real
`anchor serve` on SQLite and on PostgreSQL takes one-digest submissions from eight clients at
once and is killed mid-load; every receipt it acknowledged is then in the store, with its
digest, whatever the groups in flight were. A commit whose answer was lost may leave a row the
client never saw (its retry with an Idempotency-Key gets the same receipt): never the reverse.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from anchor.store import open_store
from tests.api.test_processes import serve
from tests.support.live import DEAD_RPC
from tests.support.pg import fresh_schema
from tests.support.store import make_issuer

CLIENTS = 8


def _load(url: str, key: str, stop: threading.Event, acked: list[tuple[str, str]]) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        while not stop.is_set():
            digest = secrets.token_hex(32)
            try:
                answer = client.post("/v1/receipts", json={"digests": [digest]})
            except httpx.HTTPError:
                return  # the server is gone
            if answer.status_code == 202:
                acked.append((answer.json()["receipts"][0]["id"], digest))


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_sigkill_under_load_loses_no_acknowledged_receipt(backend: str, tmp_path: Path) -> None:
    with fresh_schema() as pg_url:
        url = f"sqlite:///{tmp_path}/anchor.db" if backend == "sqlite" else pg_url
        pepper = tmp_path / "pepper"
        pepper.write_bytes(secrets.token_bytes(32))
        pepper.chmod(0o600)
        store = open_store(url, migrate=True, key_pepper=pepper.read_bytes())
        integrator = store.create_integrator("Commune de Contern", make_issuer(store)).id
        key = store.create_api_key(integrator, ["submit"])[1]
        store.close()
        env = {
            "ANCHOR_DATABASE_URL": url,
            "ANCHOR_IDEMPOTENCY_PEPPER_FILE": str(pepper),
            "ANCHOR_RPC_URLS": DEAD_RPC,
            "ANCHOR_DATA_DIR": str(tmp_path),
            "ANCHOR_API_RATE_PER_SECOND": "100000",
            "ANCHOR_API_RATE_BURST": "100000",
        }
        env = dict(os.environ) | env
        env.pop("ANCHOR_INTERNAL_PORT", None)
        acked: list[tuple[str, str]] = []
        with serve(env, tmp_path / "serve.log") as (api, pid):
            stop = threading.Event()
            clients = [
                threading.Thread(target=_load, args=(api, key, stop, acked)) for _ in range(CLIENTS)
            ]
            for c in clients:
                c.start()
            deadline = time.monotonic() + 30
            while len(acked) < 300:
                assert time.monotonic() < deadline, "the API acknowledged too little"
                time.sleep(0.01)
            os.kill(pid, signal.SIGKILL)  # mid-load: groups are in flight
            stop.set()
            for c in clients:
                c.join(timeout=15)
        store = open_store(url, key_pepper=pepper.read_bytes())
        try:
            for receipt_id, digest in list(acked):
                found = store.get_receipt(receipt_id)
                assert found is not None, f"acknowledged receipt {receipt_id} is lost"
                assert found.digest is not None and found.digest.hex == digest
            assert store.pending_count() >= len(acked)
        finally:
            store.close()
