"""`anchor batches list|retry` on a real SQLite store."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from anchor.cli import build_app
from anchor.cli.output import EXIT_USAGE
from anchor.service.batcher import close_batches
from anchor.service.intake import submit
from anchor.store import open_store
from anchor.types import BatchState, FailureCause, ReceiptState
from tests.support.store import make_issuer

runner = CliRunner()
app = build_app()


def make_store(tmp_path: Path) -> tuple[str, list[str]]:
    """A store with three frozen batches, the first two failed; return (URL, receipt ids)."""
    url = f"sqlite:///{tmp_path / 'anchor.db'}"
    store = open_store(url, migrate=True)
    integrator = store.create_integrator("Commune de Contern", make_issuer(store)).id
    ids = [r.id for r in submit(store, [os.urandom(32).hex() for _ in range(6)], integrator)]
    close_batches(store, max_batch_size=2, max_batch_age=3600)
    store.mark_batch_failed(1, FailureCause.INVALID_BATCH)
    store.mark_batch_failed(2, FailureCause.ANCHORED_BY_ANOTHER_ISSUER)
    store.close()
    return url, ids


def test_list_in_text_and_json(tmp_path: Path) -> None:
    url, _ = make_store(tmp_path)
    result = runner.invoke(app, ["batches", "list", "--database-url", url])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [
        ["3", "frozen"],
        ["2", "failed"],
        ["1", "failed"],
    ]
    assert "anchored_by_another_issuer" in lines[1]
    assert lines[0].split("\t")[2] == "issuer 1"
    result = runner.invoke(
        app, ["batches", "list", "--database-url", url, "--state", "failed", "--json"]
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [(b["id"], b["state"], b["reason"]) for b in listed] == [
        (2, "failed", "anchored_by_another_issuer"),
        (1, "failed", "invalid_batch"),
    ]
    assert listed[0]["root"].startswith("0x") and listed[0]["leafCount"] == 2
    assert listed[0]["issuerId"] == 1


def test_retry_one_then_all(tmp_path: Path) -> None:
    url, _ = make_store(tmp_path)
    result = runner.invoke(app, ["batches", "retry", "1", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "batch 1 sent back to submission (2 digests)"
    store = open_store(url)
    assert store.get_batch(1).state == BatchState.FROZEN  # type: ignore[union-attr]
    assert {r.state for r in store.batch_receipts(1)} == {ReceiptState.BATCHED}
    assert {r.state for r in store.batch_receipts(2)} == {ReceiptState.FAILED}
    assert store.get_batch(2).state == BatchState.FAILED  # type: ignore[union-attr]
    result = runner.invoke(app, ["batches", "retry", "--all-failed", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert store.get_batch(2).state == BatchState.FROZEN  # type: ignore[union-attr]
    again = runner.invoke(app, ["batches", "retry", "--all-failed", "--database-url", url])
    assert again.exit_code == 0 and again.stdout.strip() == "no failed batch"
    store.close()


def test_retry_refusals(tmp_path: Path) -> None:
    url, _ = make_store(tmp_path)
    both = runner.invoke(app, ["batches", "retry", "1", "--all-failed", "--database-url", url])
    assert both.exit_code == EXIT_USAGE
    assert "give either a batch id or --all-failed" in both.stderr
    frozen = runner.invoke(app, ["batches", "retry", "3", "--database-url", url])
    assert frozen.exit_code == 1 and frozen.stderr.startswith("error: ")
    assert "Traceback" not in frozen.stderr


def test_no_store_is_created_where_none_is(tmp_path: Path) -> None:
    where = tmp_path / "nowhere" / "anchor.db"
    result = runner.invoke(app, ["batches", "list", "--database-url", f"sqlite:///{where}"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: there is no store at {where}: set ANCHOR_DATABASE_URL (or ANCHOR_DATA_DIR) to "
        "the service's store, or create this one with `anchor migrate`"
    )
    assert not where.exists()


def test_help_has_examples() -> None:
    for command in ("list", "retry"):
        result = runner.invoke(app, ["batches", command, "--help"])
        assert result.exit_code == 0 and "anchor batches " + command in result.stdout
