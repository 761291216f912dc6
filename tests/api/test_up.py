"""`anchor up` end to end, as `make run` starts it: a body added while it runs is onboarded, its
integrator submits, the document is anchored under the body's key; stop, restart with the state."""

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

from tests.support.live import wait_ready

pytestmark = [pytest.mark.chain, pytest.mark.timeout(600)]

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(
    data: Path, port: int, chain_port: int, log: Path, internal_port: int | None = None
) -> subprocess.Popen[bytes]:
    internal = [] if internal_port is None else ["--internal-port", str(internal_port)]
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                str(BIN / "anchor"), "up", "--data-dir", str(data), "--port", str(port),
                "--chain-port", str(chain_port), "--block-time", "1", "--max-batch-age", "1",
                *internal,
            ],
            stdout=out,
            stderr=out,
        )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def anchor_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "anchor"), *args], env={**os.environ, **env},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def check_client_commands(tmp_path: Path, url: str, key: str, chain_port: int) -> None:
    """`anchor submit`, `proof`, `qr` and `verify` against the running stack, as users run them."""
    env = {"ANCHOR_API_URL": url, "ANCHOR_API_KEY": key}
    permit = tmp_path / "permit-2026-0042.pdf"
    permit.write_bytes(b"%PDF-1.7 permis de construire 2026-0042\n")
    submitted = anchor_cli("submit", str(permit), "--json", env=env)
    assert submitted.returncode == 0, submitted.stderr
    (row,) = json.loads(submitted.stdout)
    assert row["file"] == str(permit) and row["status"] == "pending"
    again = anchor_cli("submit", str(permit), "--json", env=env)  # same Idempotency-Key
    assert json.loads(again.stdout)[0]["id"] == row["id"]
    proof_file = tmp_path / "permit.proof.json"
    deadline = time.monotonic() + 90
    while (
        proof := anchor_cli("proof", row["id"], "--output", str(proof_file), env=env)
    ).returncode:
        assert proof.returncode == 3 and "no proof yet" in proof.stderr, proof.stderr
        assert time.monotonic() < deadline
        time.sleep(0.5)
    qr = anchor_cli(
        "qr", row["id"], "--format", "svg", "--output", str(tmp_path / "qr.svg"), env=env
    )
    assert qr.returncode == 0 and (tmp_path / "qr.svg").read_text().lstrip().startswith("<")
    # The verifier knows the registry out of band: here, from the deployment manifest.
    registry = json.loads((tmp_path / "data" / "deployment.json").read_text())["address"]
    trust = ["--rpc", f"http://127.0.0.1:{chain_port}", "--registry", registry]
    valid = anchor_cli("verify", str(permit), "--proof", str(proof_file), *trust, env={})
    assert valid.returncode == 0 and valid.stdout.startswith("VALID"), valid.stdout
    other = tmp_path / "forged.pdf"
    other.write_bytes(b"%PDF-1.7 permis de construire 2026-0043\n")
    forged = anchor_cli("verify", str(other), "--proof", str(proof_file), *trust, env={})
    assert forged.returncode == 1, forged.stdout
    no_key = anchor_cli("proof", row["id"], env={"ANCHOR_API_URL": url, "ANCHOR_API_KEY": ""})
    assert no_key.returncode == 1 and "no API key" in no_key.stderr


def test_up_runs_the_stack_and_keeps_its_state(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "up.log"
    port, chain_port, internal_port = free_port(), free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(data, port, chain_port, log, internal_port)
    try:
        wait_ready(url, process, log, timeout=180, what="anchor up")
        assert "registry  0x" in log.read_text()
        assert 'anchor issuers add "Commune de Contern" --kind commune' in log.read_text()
        shell = {"ANCHOR_DATA_DIR": str(data)}
        added = anchor_cli("issuers", "add", "Commune de Contern", "--kind", "commune",
                           "--code", "0301", "--json", env=shell)  # fmt: skip
        assert added.returncode == 0, added.stderr
        anchoring = json.loads(added.stdout)["keys"][0]["address"]
        scopes = ["-s", "submit", "-s", "read", "-s", "status"]
        made = anchor_cli("keys", "create", "--issuer", "1", "--new-integrator", "Contern",
                          *scopes, "--json", env=shell)  # fmt: skip
        assert made.returncode == 0, made.stderr
        key = json.loads(made.stdout)["key"]
        deadline = time.monotonic() + 60
        while "onboarded issuing body 1" not in log.read_text():  # within seconds, by itself
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
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
        assert body["issuerId"] == 1
        assert body["proof"]["issuer"].lower() == anchoring.lower()  # the body's key, not ours
        assert httpx.get(f"{url}/metrics").status_code == 404  # internal port only
        metrics = httpx.get(f"http://127.0.0.1:{internal_port}/metrics").text
        assert "anchor_anchored_batches_total 1.0" in metrics
        # The body's status key pays its own gas on the local chain: a suspension lands.
        asked = api.post(
            f"/v1/receipts/{receipt_id}/status", json={"change": "suspend", "reason": 1}
        )
        assert asked.status_code == 202, asked.text
        change = f"/v1/receipts/{receipt_id}/status/{asked.json()['id']}"
        deadline = time.monotonic() + 60
        while (shown := api.get(change).json())["state"] != "done":
            assert shown["state"] != "failed" and time.monotonic() < deadline, shown
            time.sleep(0.5)
        check_client_commands(tmp_path, url, key, chain_port)
    finally:
        stop(process)
    assert port_is_free(chain_port), "anvil outlived `anchor up`"
    manifest = json.loads((data / "deployment.json").read_text())
    assert (data / "anvil-state.json").exists()

    # Restart: the chain state and the store come back; the registry is not deployed again.
    process = start(data, port, chain_port, log, internal_port)
    try:
        wait_ready(url, process, log, timeout=180, what="anchor up")
        again = api.get(f"/v1/receipts/{receipt_id}").json()
        assert again["status"] == "anchored"
        assert again["proof"]["registry"].lower() == manifest["address"].lower()
        assert "deploying the registry again" not in log.read_text()
    finally:
        stop(process)
