"""The README's operator quickstart, run as written, on anvil with PostgreSQL, then the restore
drill of docs/operations.md ("Backups and restore").

From a clean data directory, a fresh brownie data folder and a fresh PostgreSQL schema: register
the network, import the admin's, the registrar's and the revoker's keystores and make them
private, deploy with the registrar, pauser and revoker roles, migrate, create the relayer's
keystore, add a body in the service and have the registrar onboard its keys, start the worker and
the API, create a key bound to the body, submit a document, fetch its proof and QR code, verify
it (it names the body from the registry), revoke it with reason 1 as the revoker and verify
again. Then stop everything, dump the schema, drop it, restore it, and check that the keys, the
batches and the proof came back.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from eth_account import Account
from eth_typing import HexStr

from anchor.chain.devchain import Anvil, dev_key
from tests.support.live import wait_ready
from tests.support.pg import PG_DSN, fresh_schema

pytestmark = [pytest.mark.brownie, pytest.mark.chain, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
BVENV = ROOT / ".venv-brownie" / "bin"
BIN = Path(sys.executable).parent
CHAIN_ID = 31412
NETWORK = f"anchor-quickstart-{os.getpid()}"
ROLES = ("admin", "registrar", "revoker")

if not (BVENV / "brownie").exists():
    pytest.skip("brownie's venv .venv-brownie is absent: run `make brownie-setup`",
                allow_module_level=True)  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Shell:
    """The operator's shell: one environment, commands run from the checkout."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.background: list[subprocess.Popen[bytes]] = []

    def run(
        self,
        *argv: str,
        stdin: str | None = None,
        ok: bool = True,
        extra: dict[str, str] | None = None,
    ) -> str:
        done = subprocess.run(
            list(argv), cwd=ROOT, env={**self.env, **(extra or {})}, input=stdin,
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
        if ok:
            assert done.returncode == 0, (argv, done.stdout, done.stderr)
        return done.stdout

    def brownie(self, script: str, *args: str) -> str:
        return self.run(str(BVENV / "brownie"), "run", script, *args, "--network", NETWORK)

    def anchor(self, *args: str, **extra: str) -> str:
        return self.run(str(BIN / "anchor"), *args, extra=extra)

    def start(self, log: Path, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(BIN / "anchor"), *args], cwd=ROOT, env={**self.env, **extra},
                stdout=out, stderr=out,
            )  # fmt: skip
        self.background.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.background:
            process.terminate()
        for process in self.background:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.background.clear()


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANCHOR_")}
    s = Shell(
        {
            **base,
            "NO_COLOR": "1",
            "ANCHOR_BROWNIE_HOME": str(tmp_path / "brownie-home"),
            "ANCHOR_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
            "ANCHOR_DATA_DIR": str(tmp_path / "data"),
        }
    )
    try:
        yield s
    finally:
        s.stop_all()


def private(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    path.chmod(0o600)
    return path


def test_the_operator_quickstart_runs_as_written(tmp_path: Path, shell: Shell) -> None:
    secrets = tmp_path / "secrets"
    passwords = {who: private(secrets / f"{who}-pw", f"{who} password\n") for who in ROLES}
    anchor_pw = private(secrets / "anchor-pw", "service password\n")
    pepper = private(secrets / "anchor-pepper", os.urandom(32))
    usb = tmp_path / "usb"  # the keystores made on the offline machines
    usb.mkdir()
    for index, who in enumerate(ROLES):
        (usb / f"anchor-{who}.json").write_text(
            json.dumps(Account.encrypt(HexStr(dev_key(index)), f"{who} password"))
        )
    accounts = tmp_path / "brownie-home" / ".brownie" / "accounts"
    started = time.monotonic()

    with Anvil(chain_id=CHAIN_ID, extra_args=["--block-base-fee-per-gas", "0"]) as node, \
            fresh_schema() as database_url:  # fmt: skip
        shell.env |= {"ANCHOR_RPC_URL": node.url, "ANCHOR_CHAIN_ID": str(CHAIN_ID)}
        shell.run(str(BVENV / "python"), "scripts/setup_networks.py", "--live-id", NETWORK)
        # 1. The admin's, the registrar's and the revoker's keys, imported and made private.
        for who in ROLES:
            shell.run(str(BVENV / "brownie"), "accounts", "import", f"anchor-{who}",
                      str(usb / f"anchor-{who}.json"), stdin=f"{who} password\n")  # fmt: skip
            account_file = accounts / f"anchor-{who}.json"
            assert account_file.stat().st_mode & 0o777 == 0o644  # as brownie writes it
            account_file.chmod(0o600)

        def address(who: str) -> str:
            return "0x" + str(json.loads((accounts / f"anchor-{who}.json").read_text())["address"])

        def as_(who: str) -> dict[str, str]:
            return {
                "ANCHOR_BROWNIE_ACCOUNT": f"anchor-{who}",
                "ANCHOR_BROWNIE_ACCOUNT_PASSWORD_FILE": str(passwords[who]),
            }

        shell.env |= as_("admin")
        # 2. Deploy with the roles.
        shell.brownie(
            "scripts/deploy.py", "main", f"registrar={address('registrar')}",
            f"pauser={address('registrar')}", f"revoker={address('revoker')}",
        )  # fmt: skip
        manifest = json.loads((tmp_path / "deployments" / f"{NETWORK}.json").read_text())
        # 3. The store and the service's keys.
        signer = tmp_path / "data" / "signer.json"
        shell.env |= {
            "ANCHOR_DATABASE_URL": database_url,
            "ANCHOR_IDEMPOTENCY_PEPPER_FILE": str(pepper),
            "ANCHOR_RPC_URLS": node.url,
            "ANCHOR_FEE_MODE": "zero",
            "ANCHOR_CONFIRMATIONS": "0",
            "ANCHOR_REGISTRY_ADDRESS": manifest["address"],
            "ANCHOR_KEYSTORE_PATH": str(signer),
            "ANCHOR_KEYSTORE_PASSWORD_FILE": str(anchor_pw),
        }
        assert shell.anchor("migrate").startswith("store at revision ")
        relayer = shell.anchor(
            "keystore", "create", str(signer), "--password-file", str(anchor_pw)
        ).strip()
        # 4. A body in the service, onboarded on chain by the registrar.
        body = json.loads(
            shell.anchor(
                "issuers", "add", "Commune de Contern", "--kind", "commune", "--code", "0301",
                "--name-de", "Gemeng Conter", "--name-en", "Municipality of Contern", "--json",
            )
        )  # fmt: skip
        key = {k["purpose"]: k["address"] for k in body["keys"]}
        onboarded = shell.run(
            str(BVENV / "brownie"), "run", "scripts/bodies.py", "onboard", "commune", "code=0301",
            "fr=Commune de Contern", "de=Gemeng Conter", "en=Municipality of Contern",
            f"anchoring={key['anchoring']}", f"status={key['status']}", "--network", NETWORK,
            extra=as_("registrar"),
        )  # fmt: skip
        assert "registered body 1" in onboarded, onboarded
        # 5. The worker, the API and an integrator of the body.
        worker_env = {"ANCHOR_MAX_BATCH_AGE": "0.5", "ANCHOR_POLL_INTERVAL": "0.2"}
        shell.start(tmp_path / "worker.log", "worker", "--metrics-port", str(free_port()),
                    **worker_env)  # fmt: skip
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        api_env = {
            "ANCHOR_ENV": "production",
            "ANCHOR_PUBLIC_BASE_URL": "https://verify.example",
            "ANCHOR_INTERNAL_PORT": str(free_port()),
        }
        api_log = tmp_path / "api.log"
        api = shell.start(api_log, "serve", "--port", str(port), **api_env)
        wait_ready(url, api, api_log)
        made = json.loads(
            shell.anchor(
                "keys", "create", "--issuer", str(body["id"]), "--new-integrator",
                "Commune de Contern", "-s", "submit", "-s", "read", "--json",
            )
        )  # fmt: skip
        client = {"ANCHOR_API_URL": url, "ANCHOR_API_KEY": made["key"]}
        permit = tmp_path / "permit-2026-0042.pdf"
        permit.write_bytes(b"%PDF-1.7 permis de construire 2026-0042\n")
        (row,) = json.loads(shell.anchor("submit", str(permit), "--json", **client))
        proof_file = tmp_path / "permit.proof.json"
        deadline = time.monotonic() + 60
        while True:
            done = subprocess.run(
                [str(BIN / "anchor"), "proof", row["id"], "--output", str(proof_file)],
                env={**shell.env, **client}, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode == 0:
                break
            assert done.returncode == 3, done.stderr
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.3)
        bundle = json.loads(proof_file.read_text())
        assert (
            bundle["issuer"].lower() == key["anchoring"].lower()
        )  # the body's key, not the relayer
        assert relayer.lower() != key["anchoring"].lower()
        assert "issuerName" not in bundle
        assert bundle["registry"].lower() == manifest["address"].lower()
        qr = tmp_path / "permit-qr.svg"
        shell.anchor("qr", row["id"], "--format", "svg", "--output", str(qr), **client)
        receipt = httpx.get(f"{url}/v1/receipts/{row['id']}",
                            headers={"Authorization": f"Bearer {made['key']}"}).json()  # fmt: skip
        assert receipt["verificationUrl"].startswith("https://verify.example/verify#v1.")
        trust = ["--rpc", node.url, "--registry", manifest["address"]]
        valid = shell.anchor("verify", str(permit), "--proof", str(proof_file), *trust)
        assert valid.startswith("VALID"), valid
        assert "Commune de Contern" in valid
        # 6. The revocation, signed by the revoker.
        out = shell.run(
            str(BVENV / "brownie"), "run", "scripts/revoke.py", "document", "1", str(proof_file),
            "1", "--network", NETWORK, extra=as_("revoker"),
        )  # fmt: skip
        assert "superseded" in out, out
        revoked = subprocess.run(
            [str(BIN / "anchor"), "verify", str(permit), "--proof", str(proof_file), *trust],
            env=shell.env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert revoked.returncode == 1 and "superseded" in revoked.stdout, revoked.stdout
        assert "reason code" not in revoked.stdout
        print(f"operator quickstart took {time.monotonic() - started:.1f} s")

        # The restore drill: stop, back up, lose the database, restore, check.
        keys_before = shell.anchor("keys", "list", "--json")
        batches_before = shell.anchor("batches", "list", "--json")
        shell.stop_all()
        schema = database_url.rsplit("%3D", 1)[1]
        dump = tmp_path / "backup.sql"
        pg = ["-h", "127.0.0.1", "-U", "postgres", "-d", "test"]
        shell.run("pg_dump", *pg, "-n", schema, "-f", str(dump))
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        lost = subprocess.run([str(BIN / "anchor"), "keys", "list"], env=shell.env,
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert lost.returncode == 1 and "anchor migrate" in lost.stderr
        shell.run("psql", *pg, "-q", "-v", "ON_ERROR_STOP=1", "-f", str(dump))
        shell.anchor("migrate")
        assert shell.anchor("keys", "list", "--json") == keys_before
        assert shell.anchor("batches", "list", "--json") == batches_before
        api = shell.start(api_log, "serve", "--port", str(port), **api_env)
        wait_ready(url, api, api_log)
        again = tmp_path / "restored.proof.json"
        shell.anchor("proof", row["id"], "--output", str(again), **client)
        assert json.loads(again.read_text()) == bundle
        print(f"with the restore drill: {time.monotonic() - started:.1f} s")
