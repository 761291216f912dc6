"""The client commands take the API key from the environment or standard input, never argv."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anchor.cli import build_app
from anchor.cli.output import EXIT_FAILURE, EXIT_NOT_YET

DEAD_API = "http://127.0.0.1:1"


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "permit.pdf"
    path.write_bytes(b"%PDF-1.7 permit\n")
    return path


def test_no_api_key_option_on_the_command_line(document: Path) -> None:
    result = CliRunner().invoke(
        build_app(), ["submit", str(document), "--api-url", DEAD_API, "--api-key", "ak_secret"]
    )
    assert result.exit_code != 0
    assert "No such option: --api-key" in result.output


def test_the_key_comes_from_stdin_or_the_environment(
    document: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANCHOR_API_KEY", raising=False)
    runner = CliRunner()
    args = ["submit", str(document), "--api-url", DEAD_API]
    missing = runner.invoke(build_app(), args)
    assert missing.exit_code == EXIT_FAILURE
    assert "no API key: set ANCHOR_API_KEY or pipe it with --api-key-stdin" in missing.output
    # With a key (from stdin, then from the environment) the command goes on to the API.
    piped = runner.invoke(build_app(), [*args, "--api-key-stdin"], input="ak_secret\n")
    assert "cannot reach the API" in piped.output
    monkeypatch.setenv("ANCHOR_API_KEY", "ak_secret")
    from_env = runner.invoke(build_app(), args)
    assert "cannot reach the API" in from_env.output


class _Receipts(BaseHTTPRequestHandler):
    """A stand-in API that answers GET /v1/receipts/<status> with a receipt in that status."""

    def do_GET(self) -> None:
        status = self.path.rsplit("/", 1)[-1]
        body = json.dumps({"id": status, "digest": "ab" * 32, "status": status}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def api_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receipts)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_failed_receipt_says_it_will_never_get_a_proof(
    api_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANCHOR_API_KEY", "ak_secret")
    runner = CliRunner()
    failed = runner.invoke(build_app(), ["proof", "failed", "--api-url", api_url])
    assert failed.exit_code == EXIT_FAILURE
    assert failed.stderr.startswith("error: receipt failed failed: it will never get a proof")
    assert "anchor batches retry" in failed.stderr and "no proof yet" not in failed.stderr
    waiting = runner.invoke(build_app(), ["proof", "batched", "--api-url", api_url])
    assert waiting.exit_code == EXIT_NOT_YET
    assert waiting.stderr.strip() == "receipt batched is batched: no proof yet, ask again later"
