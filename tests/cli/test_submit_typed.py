"""`anchor submit --type`: a building permit from the command line to a verified version 2 proof.

The end-to-end test runs the whole stack as `make run` does (`anchor up`: anvil, the API, the
worker), submits the permit of docs/proof-format.md section 10 with its facts, waits until the
worker anchored it, then checks its version 2 bundle offline and against the chain, its
``#v2.`` URL with `compact2`, and its QR code with zbarimg.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from anchor.cli import build_app
from anchor.cli.output import EXIT_FAILURE
from anchor.proof import compact
from anchor.proof.bundle import ProofBundleV2, parse_bundle
from anchor.proof.compact2 import PREFIX_V2, decode_compact_v2, digits_to_bytes
from anchor.proof.doctypes import builtin_types
from anchor.store import open_store
from anchor.trust import TrustedRegistry
from anchor.verify import Outcome, offline_checks, verify_bundle
from tests.api.test_up import anchor_cli, free_port, start, stop
from tests.support.documents import PERMIT_FACTS, PERMIT_FILE, PERMIT_PRIVATE, PERMIT_TYPE
from tests.support.live import wait_ready
from tests.support.qr import scan_qr

DEAD_API = "http://127.0.0.1:1"


def permit_args(path: Path | None, **changes: str) -> list[str]:
    """`anchor submit` arguments of the permit: its type, facts (``changes`` replace some),
    private fact and file."""
    args = ["submit", "--type", PERMIT_TYPE]
    for name, value in {**PERMIT_FACTS, **changes}.items():
        args += ["--fact", f"{name}={value}"]
    for name, value in PERMIT_PRIVATE.items():
        args += ["--private", f"{name}={value}"]
    return args + ([str(path)] if path is not None else [])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["submit", "--fact", "reference=2026/0042"], "--fact and --private need --type"),
        (["submit"], "give the documents to anchor"),
        (["submit", "--type", PERMIT_TYPE, "--fact", "reference"], "takes name=value"),
        (
            ["submit", "--type", PERMIT_TYPE, "--fact", "reference=1", "--fact", "reference=2"],
            "given twice",
        ),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANCHOR_API_KEY", "ak_secret")
    result = CliRunner().invoke(build_app(), [*args, "--api-url", DEAD_API])
    assert result.exit_code == EXIT_FAILURE, result.output
    assert message in result.output
    assert "cannot reach the API" not in result.output


def test_one_typed_document_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANCHOR_API_KEY", "ak_secret")
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    a.write_bytes(b"a")
    b.write_bytes(b"b")
    result = CliRunner().invoke(build_app(), [*permit_args(a), str(b), "--api-url", DEAD_API])
    assert result.exit_code == EXIT_FAILURE and "at most one FILE" in result.output


def test_help_teaches_the_building_permit() -> None:
    result = CliRunner().invoke(build_app(), ["submit", "--help"], terminal_width=100)
    assert result.exit_code == 0
    for text in ("--type lu.building-permit", "--fact reference=2026/0042", "--private"):
        assert text in result.output


@pytest.mark.chain
@pytest.mark.timeout(600)
def test_a_building_permit_from_the_command_line_to_a_verified_v2_proof(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "up.log"
    port, chain_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(data, port, chain_port, log)
    try:
        wait_ready(url, process, log, timeout=180, what="anchor up")
        shell = {"ANCHOR_DATA_DIR": str(data)}
        added = anchor_cli("issuers", "add", "Commune de Contern", "--kind", "commune",
                           "--code", "0301", "--json", env=shell)  # fmt: skip
        assert added.returncode == 0, added.stderr
        made = anchor_cli("keys", "create", "--issuer", "1", "--new-integrator", "Contern",
                          "-s", "submit", "-s", "read", "--json", env=shell)  # fmt: skip
        assert made.returncode == 0, made.stderr
        key = json.loads(made.stdout)["key"]
        deadline = time.monotonic() + 60
        while "onboarded issuing body 1" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)

        permit = tmp_path / "permit-2026-0042.pdf"
        permit.write_bytes(PERMIT_FILE)
        env = {"ANCHOR_API_URL": url, "ANCHOR_API_KEY": key}
        submitted = anchor_cli(*permit_args(permit), "--json", env=env)
        assert submitted.returncode == 0, submitted.stderr
        (row,) = json.loads(submitted.stdout)
        assert row["type"] == PERMIT_TYPE and row["status"] == "pending"
        again = anchor_cli(*permit_args(permit), "--json", env=env)  # same Idempotency-Key
        assert json.loads(again.stdout)[0]["id"] == row["id"]

        bad = anchor_cli(*permit_args(None, decisionDate="12.03.2026"), env=env)
        assert bad.returncode == EXIT_FAILURE
        assert "facts.decisionDate: the fact decisionDate must be a date written YYYY-MM-DD" in (
            bad.stderr
        )

        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10)
        deadline = time.monotonic() + 90
        while (body := api.get(f"/v1/receipts/{row['id']}").json())["status"] != "anchored":
            assert time.monotonic() < deadline, body
            time.sleep(0.5)
        answer = api.get(f"/v1/receipts/{row['id']}").text
        check_bundle(body, permit, data, chain_port, answer)
        check_url_and_qr(body, api, row["id"], tmp_path)

        proof_file = tmp_path / "permit.proof.json"
        proof_file.write_text(json.dumps(body["proof"]))
        registry = json.loads((data / "deployment.json").read_text())["address"]
        trust = ["--rpc", f"http://127.0.0.1:{chain_port}", "--registry", registry]
        valid = anchor_cli("verify", str(permit), "--proof", str(proof_file), *trust, env={})
        assert valid.returncode == 0 and valid.stdout.startswith("VALID"), valid.stdout
        assert "2026/0042" in valid.stdout  # VALID is shown with the certified facts
        assert PERMIT_PRIVATE["holder"] not in valid.stdout

        erased = api.delete(f"/v1/receipts/{row['id']}")
        assert erased.status_code == 200 and erased.json()["status"] == "erased"
        assert api.get(f"/v1/receipts/{row['id']}").status_code == 410
        store = open_store(f"sqlite:///{data / 'anchor.db'}")
        try:
            assert store.document_facts(row["id"]) is None
        finally:
            store.close()
    finally:
        stop(process)


def check_bundle(
    body: dict[str, object], permit: Path, data: Path, chain_port: int, answer: str
) -> None:
    """The v2 bundle: the facts as given, the file's digest, a private commitment and never
    the private facts, the private salt or an issuer name; valid offline and on chain."""
    bundle = parse_bundle(body["proof"])  # type: ignore[arg-type]
    assert isinstance(bundle, ProofBundleV2)
    assert (bundle.type_id, bundle.type_version) == (PERMIT_TYPE, 1)
    assert list(bundle.facts.items()) == list(PERMIT_FACTS.items())  # in the type's order
    assert bundle.file == "0x" + hashlib.sha256(PERMIT_FILE).hexdigest()
    assert bundle.private is not None and body["digest"] == bundle.digest[2:]
    assert "issuerName" not in body["proof"]  # type: ignore[operator]
    store = open_store(f"sqlite:///{data / 'anchor.db'}")
    try:
        facts = store.document_facts(str(body["id"]))
    finally:
        store.close()
    assert facts is not None and facts.private_salt is not None
    for secret in (facts.private_salt.hex(), *PERMIT_PRIVATE.values()):
        assert secret not in answer
    assert all(c.ok for c in offline_checks(bundle, document=permit) if c.required)
    registry = json.loads((data / "deployment.json").read_text())["address"]
    verdict = verify_bundle(
        bundle,
        trusted=[TrustedRegistry(registry.lower(), 31337)],
        document=permit,
        rpc_urls=[f"http://127.0.0.1:{chain_port}"],
    )
    assert verdict.outcome is Outcome.VALID, verdict
    assert verdict.body is not None and verdict.body.name() == "Commune de Contern"
    forged = bundle.model_copy(update={"facts": {**PERMIT_FACTS, "reference": "2026/0043"}})
    assert [c.name for c in offline_checks(forged) if c.ok is False] == ["statement"]


def check_url_and_qr(body: dict[str, object], api: httpx.Client, rid: str, tmp: Path) -> None:
    """The verification URL is compact v2 (digits) and decodes to the bundle; so does the QR."""
    link = str(body["verificationUrl"])
    head, _, text = link.partition("#")
    assert head.endswith("/verify") and text.startswith(PREFIX_V2)
    assert text[len(PREFIX_V2) :].isdigit()
    bundle = parse_bundle(body["proof"])  # type: ignore[arg-type]
    decoded = decode_compact_v2(digits_to_bytes(text[len(PREFIX_V2) :]), builtin_types())
    assert decoded == bundle == compact.parse_verification_url(link)
    png = api.get(f"/v1/receipts/{rid}/qr.png")
    assert png.status_code == 200
    image = tmp / "qr.png"
    image.write_bytes(png.content)
    assert scan_qr(image) == [link]
