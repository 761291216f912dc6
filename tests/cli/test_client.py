"""The client commands take the API key from the environment or standard input, never argv."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from anchor.cli import build_app
from anchor.cli.output import EXIT_FAILURE

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
