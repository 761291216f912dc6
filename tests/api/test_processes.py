"""Several API processes on one PostgreSQL share a key's rate limit through Redis.

Two `anchor serve` processes on two ports (two hosts behind a load balancer, as in
docs/operations.md, "Several processes and hosts"): a client that spreads its requests
over both gets its key's burst once in total, not once per process. And `anchor serve
--workers 2` serves from two processes. Real PostgreSQL, Redis and uvicorn; the chain is a
dead address (these routes never read it).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from anchor.store import open_store
from tests.support.live import DEAD_RPC
from tests.support.pg import fresh_schema
from tests.support.store import make_issuer

ANCHOR = str(Path(sys.executable).parent / "anchor")
REDIS_URL = os.environ.get("ANCHOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BURST = 6


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    """The environment of the API processes (PostgreSQL, Redis, pepper) and a read key."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as e:
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {e}")
    pepper = tmp_path / "pepper"
    pepper.write_bytes(secrets.token_bytes(32))
    pepper.chmod(0o600)
    prefix = f"anchor-test-{secrets.token_hex(4)}"
    with fresh_schema() as url:
        store = open_store(url, migrate=True, key_pepper=pepper.read_bytes())
        integrator = store.create_integrator("Commune de Contern", make_issuer(store)).id
        key = store.create_api_key(integrator, ["read"])[1]
        store.close()
        env = dict(os.environ) | {
            "ANCHOR_DATABASE_URL": url,
            "ANCHOR_REDIS_URL": REDIS_URL,
            "ANCHOR_API_LIMIT_KEY_PREFIX": prefix,
            "ANCHOR_IDEMPOTENCY_PEPPER_FILE": str(pepper),
            "ANCHOR_RPC_URLS": DEAD_RPC,
            "ANCHOR_DATA_DIR": str(tmp_path),
            # BURST requests in any window of BURST / 0.01 s: no refill during the test
            "ANCHOR_API_RATE_PER_SECOND": "0.01",
            "ANCHOR_API_RATE_BURST": str(BURST),
        }
        env.pop("ANCHOR_INTERNAL_PORT", None)
        try:
            yield env, key
        finally:
            conn = redis.Redis.from_url(REDIS_URL)
            for name in conn.scan_iter(f"{prefix}*"):
                conn.delete(name)


@contextmanager
def serve(env: dict[str, str], log: Path, workers: int = 1) -> Iterator[tuple[str, int]]:
    """`anchor serve` on a free port; its URL and process id; stopped afterwards."""
    port = free_port()
    cmd = [ANCHOR, "serve", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_alive(url, process, log)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_alive(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait for /healthz (not /readyz: the chain of these tests is a dead address)."""
    deadline = time.monotonic() + 180  # uvicorn's spawned workers import the app each
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the API never answered /healthz:\n" + log.read_text())


def read(url: str, key: str) -> int:
    """One authenticated read on a fresh connection; its status (404: an unknown receipt)."""
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.get(f"{url}/v1/receipts/unknown-receipt", headers=headers, timeout=10).status_code


def test_a_keys_burst_holds_across_two_processes(
    deployment: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, key = deployment
    with ExitStack() as stack:
        a, _ = stack.enter_context(serve(env, tmp_path / "a.log"))
        b, _ = stack.enter_context(serve(env, tmp_path / "b.log"))
        # The attacker alternates between the hosts, hoping for a burst on each.
        statuses = [read(url, key) for _ in range(BURST) for url in (a, b)]
    assert statuses.count(404) == BURST, statuses
    assert statuses.count(429) == BURST, statuses
    assert statuses[:BURST] == [404] * BURST  # the first burst passes, wherever it lands


def test_serve_workers_runs_several_processes(
    deployment: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, key = deployment
    with serve(env, tmp_path / "serve.log", workers=2) as (url, pid):
        children = [
            int(c) for t in Path(f"/proc/{pid}/task").iterdir()
            for c in (t / "children").read_text().split()
        ]  # fmt: skip
        assert len(children) >= 2, children  # uvicorn's two worker processes
        assert read(url, key) == 404
