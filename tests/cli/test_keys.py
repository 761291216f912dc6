"""`anchor keys` against a SQLite store."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from anchor.cli.keys import app
from anchor.store import Store


def test_create_list_revoke(store: Store) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    created = runner.invoke(
        app,
        ["create", "--new-integrator", "Contern", "-s", "submit", "--database-url", url, "--json"],
    )
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
