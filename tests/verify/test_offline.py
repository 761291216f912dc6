"""The Python verifier, offline: golden vectors, verdict rules, and an unreachable node."""

from __future__ import annotations

import hashlib
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from anchor.cli.verify import load_proof, verify_command
from anchor.errors import ConfigError, ProofError
from anchor.proof.bundle import ProofBundle
from anchor.proof.compact import to_text, verification_url
from anchor.trust import TrustedRegistry
from anchor.verify import Check, Outcome, format_time, offline_checks, outcome_of, verify_bundle

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
REGISTRY = "0x" + "11" * 20
TRUSTED = [TrustedRegistry(REGISTRY, 31337)]


def load(name: str) -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads((VECTORS / name).read_text())["vectors"]
    return vectors


ALL = load("valid.json") + load("mutated.json")


def bundle_of(v: dict[str, Any], **chain: Any) -> ProofBundle:
    """A bundle from a vector's Merkle fields and placeholder (or given) chain fields."""
    fields: dict[str, Any] = {
        "chainId": 31337,
        "registry": REGISTRY,
        "txHash": "0x" + "22" * 32,
        "blockNumber": 1,
        "issuer": "0x" + "33" * 20,
        "anchoredAt": 1_772_534_460,
    }
    fields.update(chain)
    keys = ("digest", "salt", "leaf", "proof", "root")
    return ProofBundle.model_validate({"version": 1, **{k: v[k] for k in keys}, **fields})


def test_vectors_cover_the_required_cases() -> None:
    lengths = {len(v["proof"]) for v in load("valid.json")}
    assert {0, 1, 2, 3, 16} <= lengths
    assert len(load("mutated.json")) >= 9
    assert all(v["expected"]["verdict"] == "invalid" for v in load("mutated.json"))


@pytest.mark.parametrize("v", ALL, ids=[v["desc"] for v in ALL])
def test_offline_checks_match_the_vectors(v: dict[str, Any]) -> None:
    checks = offline_checks(bundle_of(v), document=v["document"].encode())
    by_name = {c.name: c for c in checks}
    for name in ("document", "leaf", "root"):
        assert by_name[name].ok is v["expected"][name], (name, by_name[name])
    offline = outcome_of(checks)
    if v["expected"]["verdict"] == "invalid":
        assert offline is Outcome.INVALID
    else:
        assert offline is Outcome.VALID


@pytest.mark.parametrize("v", load("mutated.json"), ids=lambda v: v["desc"])
def test_invalid_vectors_are_invalid_without_a_chain(v: dict[str, Any]) -> None:
    verdict = verify_bundle(
        bundle_of(v), trusted=TRUSTED, document=v["document"].encode(), rpc_urls=[]
    )
    assert verdict.outcome is Outcome.INVALID
    assert verdict.failed
    assert verdict.check("chain") is None  # the chain is not consulted for a forged proof


def test_document_as_a_path_and_as_a_digest(tmp_path: Path) -> None:
    v = load("valid.json")[0]
    path = tmp_path / "doc.txt"
    path.write_bytes(v["document"].encode())
    by_path = offline_checks(bundle_of(v), document=path)
    assert by_path[0].name == "document" and by_path[0].ok
    digest = hashlib.sha256(b"something else").hexdigest().upper()
    by_digest = offline_checks(bundle_of(v), digest=digest)
    assert by_digest[0].name == "digest" and by_digest[0].ok is False
    assert by_digest[0].actual == "0x" + digest.lower()
    with pytest.raises(ProofError, match="64 hex digits"):
        offline_checks(bundle_of(v), digest="abc")


def test_without_a_document_the_check_is_reported_but_not_required() -> None:
    checks = offline_checks(bundle_of(load("valid.json")[0]))
    assert checks[0].name == "document" and checks[0].ok is None and not checks[0].required
    assert outcome_of(checks) is Outcome.VALID


def test_verdict_rules() -> None:
    ok = Check("a", True, None, None, "")
    fail = Check("b", False, None, None, "")
    unknown = Check("c", None, None, None, "")
    optional_unknown = Check("d", None, None, None, "", required=False)
    optional_fail = Check("e", False, None, None, "", required=False)
    assert outcome_of([ok, optional_unknown, optional_fail]) is Outcome.VALID
    assert outcome_of([ok, unknown]) is Outcome.INDETERMINATE
    assert outcome_of([unknown, fail]) is Outcome.INVALID


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_node_is_indeterminate_never_invalid() -> None:
    v = load("valid.json")[0]
    dead = [f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"]
    verdict = verify_bundle(
        bundle_of(v), trusted=TRUSTED, document=v["document"].encode(), rpc_urls=dead, timeout=2
    )
    assert verdict.outcome is Outcome.INDETERMINATE
    chain = verdict.check("chain")
    assert chain is not None and chain.ok is None
    assert all(url in (chain.actual or "") for url in dead)
    assert "did not answer" in (chain.actual or "")
    json.dumps(verdict.to_dict())


def test_no_rpc_url_is_indeterminate() -> None:
    v = load("valid.json")[0]
    assert verify_bundle(bundle_of(v), trusted=TRUSTED).outcome is Outcome.INDETERMINATE


def test_format_time() -> None:
    assert format_time(1_772_534_460) == "3 March 2026 at 10:41 UTC"


@pytest.mark.parametrize("timestamp", [300_000_000_000, 2**64 - 1])
def test_format_time_past_the_year_9999_gives_the_number(timestamp: int) -> None:
    assert format_time(timestamp) == f"Unix time {timestamp}"


def test_another_registry_is_invalid_without_asking_any_node() -> None:
    v = load("valid.json")[0]
    other = "0x" + "44" * 20
    with socket.socket() as hung:  # a node that would hang: it is never asked
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        url = f"http://127.0.0.1:{hung.getsockname()[1]}"
        started = time.monotonic()
        verdict = verify_bundle(
            bundle_of(v, registry=other), trusted=TRUSTED, rpc_urls=[url], timeout=5
        )
        assert time.monotonic() - started < 1
    assert verdict.outcome is Outcome.INVALID
    (failed,) = verdict.failed
    assert failed.name == "registry"
    assert failed.expected == f"{REGISTRY}@31337" and failed.actual == f"{other} on chain 31337"
    assert "issued in another registry" in failed.reason
    assert verdict.check("chain") is None


def test_a_trusted_address_on_another_chain_is_another_registry() -> None:
    v = load("valid.json")[0]
    verdict = verify_bundle(bundle_of(v, chainId=5), trusted=TRUSTED, rpc_urls=[dead_url()])
    assert verdict.outcome is Outcome.INVALID
    assert "issued in another registry" in verdict.failed[0].reason


def test_verifying_without_a_trusted_registry_is_refused() -> None:
    with pytest.raises(ConfigError, match="a proof cannot name its own registry"):
        verify_bundle(bundle_of(load("valid.json")[0]), trusted=[], rpc_urls=[dead_url()])


def test_hung_node_times_out_as_indeterminate() -> None:
    """A node that accepts connections but never answers costs one timeout, then is passed over."""
    v = load("valid.json")[0]
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        url = f"http://127.0.0.1:{hung.getsockname()[1]}"
        started = time.monotonic()
        verdict = verify_bundle(bundle_of(v), trusted=TRUSTED, rpc_urls=[url], timeout=0.5)
        elapsed = time.monotonic() - started
    assert verdict.outcome is Outcome.INDETERMINATE
    assert elapsed < 5
    chain = verdict.check("chain")
    assert chain is not None and "Timeout" in (chain.actual or "")


# -- the command line (offline parts: input handling, invalid and indeterminate) ------------

cli = typer.Typer()
cli.command("verify")(verify_command)
cli.command("noop")(lambda: None)  # a second command keeps "verify" a sub-command
runner = CliRunner()


def run(*args: str, registry: str = REGISTRY) -> Result:
    env = {"ANCHOR_RPC_URLS": "", "ANCHOR_REGISTRY_ADDRESS": registry, "ANCHOR_CHAIN_ID": ""}
    return runner.invoke(cli, ["verify", *args], env=env)


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def write_case(tmp_path: Path, v: dict[str, Any]) -> tuple[Path, Path]:
    doc = tmp_path / "doc.txt"
    doc.write_bytes(v["document"].encode())
    proof = tmp_path / "proof.json"
    proof.write_text(bundle_of(v).to_json())
    return doc, proof


def test_cli_invalid_prints_each_failed_check(tmp_path: Path) -> None:
    v = next(m for m in load("mutated.json") if "digest mismatch" in m["desc"])
    doc, proof = write_case(tmp_path, v)
    result = run(str(doc), "--proof", str(proof), "--rpc", dead_url())
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0] == "INVALID — do not rely on this document."
    assert lines[1] == (
        "  - The document does not match the proof: it is not the document that was anchored."
    )


def test_cli_json_output(tmp_path: Path) -> None:
    v = next(m for m in load("mutated.json") if "flipped bit" in m["desc"])
    doc, proof = write_case(tmp_path, v)
    result = run(str(doc), "--proof", str(proof), "--rpc", dead_url(), "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["verdict"] == "invalid"
    root = next(c for c in data["checks"] if c["name"] == "root")
    assert root["ok"] is False and root["expected"] == v["root"]


def test_cli_outage_is_indeterminate(tmp_path: Path) -> None:
    v = load("valid.json")[0]
    doc, proof = write_case(tmp_path, v)
    url = dead_url()
    result = run(str(doc), "--proof", str(proof), "--rpc", url, "--timeout", "2")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("INDETERMINATE — the registry could not be read")
    assert url in result.output


def test_cli_reads_rpc_urls_from_the_environment(tmp_path: Path) -> None:
    v = load("valid.json")[0]
    _, proof = write_case(tmp_path, v)
    env = {"ANCHOR_RPC_URLS": f"{dead_url()}, {dead_url()}", "ANCHOR_REGISTRY_ADDRESS": REGISTRY}
    result = runner.invoke(cli, ["verify", "--proof", str(proof), "--json"], env=env)
    assert result.exit_code == 2
    assert json.loads(result.output)["verdict"] == "indeterminate"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give the proof with --proof"),
        (["--proof", "missing.json"], "cannot read the proof missing.json: no such file"),
        (["missing.pdf", "--proof", "{proof}"], "cannot read the document missing.pdf"),
        (["--proof", "{proof}"], "give a node of the chain with --rpc"),
        (["--proof", "{proof}", "--rpc", "ftp://x"], "must start with http://"),
        (["--proof", "{proof}", "--rpc", "http://x", "--digest", "12"], "64 hex digits"),
        (["--proof", "{bad}", "--rpc", "http://x"], "field salt is malformed"),
        (["--proof", "{v3}", "--rpc", "http://x"], "version 3 is not supported"),
        (["--proof", "v1.AAAA", "--rpc", "http://x"], "not a compact proof"),
        (["--proof", "https://x/verify", "--rpc", "http://x"], "no #v1"),
        (["--proof", "{proof}", "--rpc", "http://x", "--registry", "0x12"], "is not written"),
        (["--proof", "{proof}", "--rpc", "http://x", "--registry", f"{REGISTRY}:1"], "FROM..TO"),
    ],
)
def test_cli_unusable_input_exits_64(tmp_path: Path, args: list[str], message: str) -> None:
    v = load("valid.json")[0]
    _, proof = write_case(tmp_path, v)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**json.loads(proof.read_text()), "salt": "0x12"}))
    v3 = tmp_path / "v3.json"
    v3.write_text(json.dumps({**json.loads(proof.read_text()), "version": 3}))
    paths = {"{proof}": str(proof), "{bad}": str(bad), "{v3}": str(v3)}
    result = run(*[paths.get(a, a) for a in args])
    assert result.exit_code == 64, result.output
    assert message.lower() in result.output.lower()
    assert result.output.startswith("error: ")


def test_load_proof_accepts_every_form(tmp_path: Path) -> None:
    bundle = bundle_of(load("valid.json")[5])
    url = verification_url(bundle, "https://verify.anchor.example.lu/verify")
    saved = tmp_path / "qr.txt"
    saved.write_text(url + "\n")
    assert load_proof(url) == bundle
    assert load_proof(to_text(bundle)) == bundle
    assert load_proof(str(saved)) == bundle


def test_cli_refuses_to_verify_without_a_trusted_registry(tmp_path: Path) -> None:
    _, proof = write_case(tmp_path, load("valid.json")[0])
    result = run("--proof", str(proof), "--rpc", dead_url(), registry="")
    assert result.exit_code == 64, result.output
    assert result.output == (
        "error: Give the registry you trust with --registry ADDRESS or set "
        "ANCHOR_REGISTRY_ADDRESS, since a proof can never vouch for its own registry.\n"
    )


def test_cli_another_registry_is_invalid(tmp_path: Path) -> None:
    v = load("valid.json")[0]
    doc, proof = write_case(tmp_path, v)
    other = "0x" + "44" * 20
    result = run(str(doc), "--proof", str(proof), "--rpc", dead_url(), "--registry", other)
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        "INVALID — do not rely on this document.",
        f"  - The proof was issued in another registry ({REGISTRY} on chain 31337), not in one "
        "this verifier trusts.",
    ]
