"""`anchor up` end to end, as `make run` starts it: submit, anchor, stop, restart with the state."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.chain, pytest.mark.timeout(600)]

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(data: Path, port: int, chain_port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                str(BIN / "anchor"), "up", "--data-dir", str(data), "--port", str(port),
                "--chain-port", str(chain_port), "--block-time", "1", "--max-batch-age", "1",
            ],
            stdout=out,
            stderr=out,
        )  # fmt: skip


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("anchor up never became ready:\n" + log.read_text())


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_up_runs_the_stack_and_keeps_its_state(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "up.log"
    port, chain_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(data, port, chain_port, log)
    try:
        wait_ready(url, process, log)
        assert "registry  0x" in log.read_text()
        made = subprocess.run(
            [str(BIN / "anchor"), "keys", "create", "--new-integrator", "Commune de Contern",
             "-s", "submit", "-s", "read", "--json"],
            env={**os.environ, "ANCHOR_DATA_DIR": str(data)},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        key = json.loads(made.stdout)["key"]
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10)
        digest = os.urandom(32).hex()
        answer = api.post("/v1/receipts", json={"digests": [digest]})
        assert answer.status_code == 202, answer.text
        receipt_id = answer.json()["receipts"][0]["id"]
        deadline = time.monotonic() + 90
        while (body := api.get(f"/v1/receipts/{receipt_id}").json())["status"] != "anchored":
            assert time.monotonic() < deadline, body
            time.sleep(0.5)
        assert body["proof"]["digest"] == "0x" + digest
        metrics = httpx.get(f"{url}/metrics").text
        assert "anchor_anchored_batches_total 1.0" in metrics
    finally:
        stop(process)
    assert port_is_free(chain_port), "anvil outlived `anchor up`"
    manifest = json.loads((data / "deployment.json").read_text())
    assert (data / "anvil-state.json").exists()

    # Restart: the chain state and the store come back; the registry is not deployed again.
    process = start(data, port, chain_port, log)
    try:
        wait_ready(url, process, log)
        again = api.get(f"/v1/receipts/{receipt_id}").json()
        assert again["status"] == "anchored"
        assert again["proof"]["registry"].lower() == manifest["address"].lower()
        assert "deploying the registry again" not in log.read_text()
    finally:
        stop(process)
