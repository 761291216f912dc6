"""`anchor keys` against a SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anchor.cli.keys import app
from anchor.store import Store
from tests.support.pg import fresh_schema
from tests.support.store import make_issuer


def test_create_list_revoke(store: Store) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    body = make_issuer(store)
    runner = CliRunner()
    created = runner.invoke(
        app,
        ["create", "--new-integrator", "Contern", "--issuer", str(body), "-s", "submit",
         "--database-url", url, "--json"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    made = json.loads(created.output)
    assert store.authenticate(made["key"]) is not None
    listed = json.loads(runner.invoke(app, ["list", "--database-url", url, "--json"]).output)
    assert [k["id"] for k in listed] == [made["id"]] and "key" not in listed[0]
    revoked = runner.invoke(app, ["revoke", str(made["id"]), "--database-url", url])
    assert revoked.exit_code == 0
    assert store.authenticate(made["key"]) is None
    bad = runner.invoke(
        app, ["create", "--integrator-id", "1", "-s", "root", "--database-url", url]
    )
    assert bad.exit_code == 1
    assert runner.invoke(app, ["revoke", "999", "--database-url", url]).exit_code == 1


@pytest.mark.parametrize(
    "command", [["list"], ["revoke", "1"], ["create", "--integrator-id", "1", "-s", "read"]]
)
def test_no_store_is_created_in_a_fresh_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """`anchor keys ...` in a fresh shell (no ANCHOR_DATABASE_URL): one sentence that says where
    it looked and how to migrate, and no `data/anchor.db` left behind."""
    monkeypatch.delenv("ANCHOR_DATABASE_URL", raising=False)
    monkeypatch.setenv("ANCHOR_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, command)
    where = (tmp_path / "data" / "anchor.db").resolve()
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == (
        f"error: there is no store at {where}: set ANCHOR_DATABASE_URL (or ANCHOR_DATA_DIR) to "
        "the service's store, or create this one with `anchor migrate`"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgres
def test_an_unmigrated_postgres_database_is_named_with_the_fix() -> None:
    with fresh_schema() as url:
        result = CliRunner().invoke(app, ["list", "--database-url", url])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("error: the store at postgresql+psycopg://")
        assert result.stderr.rstrip().endswith(
            "has no schema: run `anchor migrate` with the same ANCHOR_DATABASE_URL"
        )
        assert "Traceback" not in result.output
