"""`anchor issuers add|list` and `anchor keys create --issuer` against a SQLite store."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anchor.chain.signer import KeystoreSigner
from anchor.cli import build_app
from anchor.settings import DEV_KEYSTORE_PASSWORD
from anchor.store import Store
from anchor.types import KeyPurpose


@pytest.fixture
def cli(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose ANCHOR_* settings name the test's store and data directory."""
    monkeypatch.setenv("ANCHOR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ANCHOR_DATABASE_URL", raising=False)
    for name in ("ANCHOR_KEYSTORE_PASSWORD", "ANCHOR_KEYSTORE_PASSWORD_FILE", "ANCHOR_ENV"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def _run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(build_app(), list(args))
    return result.exit_code, result.stdout, result.stderr


def test_add_makes_a_body_and_its_two_private_keystores(
    cli: CliRunner, store: Store, tmp_path: Path
) -> None:
    code, out, err = _run(
        cli, "issuers", "add", "Commune de Contern", "--kind", "commune", "--code", "0301",
        "--name-de", "Gemeng Contern", "--name-lb", "Gemeng Conter", "--json",
    )  # fmt: skip
    assert code == 0, err
    made = json.loads(out)
    assert made["id"] == 1 and made["kind"] == "commune" and made["code"] == "0301"
    assert made["names"] == {"fr": "Commune de Contern", "de": "Gemeng Contern", "en": None,
                             "lb": "Gemeng Conter"}  # fmt: skip
    assert made["chainBodyId"] is None
    assert [k["purpose"] for k in made["keys"]] == ["anchoring", "status"]
    for key in made["keys"]:
        path = tmp_path / key["keystore"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        signer = KeystoreSigner.from_keystore(path, DEV_KEYSTORE_PASSWORD)
        assert signer.address == key["address"]
    anchoring, status = made["keys"][0]["address"], made["keys"][1]["address"]
    assert (
        'scripts/bodies.py onboard commune code=0301 "fr=Commune de Contern" '
        f'"de=Gemeng Contern" "lb=Gemeng Conter" anchoring={anchoring} status={status} '
        "--network NAME"
    ) in err.replace("\n", " ")
    assert "--issuer 1" in err
    issuer = store.get_issuer(1)
    assert issuer is not None and issuer.key_for(KeyPurpose.STATUS) is not None

    code, out, _ = _run(cli, "issuers", "list")
    assert code == 0
    assert out.startswith("1\tcommune\t0301\tCommune de Contern / Gemeng Contern / Gemeng Conter")
    assert "not onboarded" in out and made["keys"][0]["address"] in out
    store.set_chain_body_id(1, 4)
    code, out, _ = _run(cli, "issuers", "list", "--json")
    assert json.loads(out)[0]["chainBodyId"] == 4


def test_add_refusals(cli: CliRunner, tmp_path: Path) -> None:
    code, _, err = _run(cli, "issuers", "add", "X", "--kind", "castle")
    assert code == 64
    assert "unknown kind 'castle': use one of commune, syndicate, social_office" in err
    assert _run(cli, "issuers", "add", "A", "--kind", "other", "--code", "7")[0] == 0
    code, _, err = _run(cli, "issuers", "add", "B", "--kind", "other", "--code", "7")
    assert code == 1 and "the code '7' is taken by issuing body 1" in err
    assert len(list((tmp_path / "keys").iterdir())) == 2  # nothing made for the refused one


def test_add_in_production_needs_a_password(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANCHOR_ENV", "production")
    monkeypatch.setenv("ANCHOR_PUBLIC_BASE_URL", "https://verify.example")
    code, _, err = _run(cli, "issuers", "add", "A", "--kind", "other")
    assert code == 1 and "set ANCHOR_KEYSTORE_PASSWORD_FILE" in err


def test_keys_create_binds_an_integrator_to_one_body(cli: CliRunner, store: Store) -> None:
    _run(cli, "issuers", "add", "Commune de Contern", "--kind", "commune")
    code, _, err = _run(cli, "keys", "create", "--new-integrator", "Contern", "-s", "submit")
    assert code == 1 and "a new integrator belongs to one issuing body: add --issuer ID" in err
    code, _, err = _run(
        cli, "keys", "create", "--new-integrator", "Contern", "--issuer", "5", "-s", "submit"
    )
    assert code == 1 and "no issuing body 5" in err
    code, out, err = _run(
        cli, "keys", "create", "--new-integrator", "Contern", "--issuer", "1", "-s", "submit",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    made = json.loads(out)
    assert made["issuerId"] == 1
    key = store.authenticate(made["key"])
    assert key is not None and key.issuer_id == 1
    # An integrator made before bodies gets its body; another body is refused.
    legacy = store.create_integrator("Legacy")
    code, out, _ = _run(cli, "keys", "create", "--integrator-id", str(legacy.id), "-s", "read")
    assert code == 0 and "no issuing body: it cannot submit" in out
    code, out, _ = _run(
        cli, "keys", "create", "--integrator-id", str(legacy.id), "--issuer", "1", "-s", "submit"
    )
    assert code == 0 and "issuing body 1" in out
    _run(cli, "issuers", "add", "Commune de Hesperange", "--kind", "commune")
    code, _, err = _run(
        cli, "keys", "create", "--integrator-id", str(legacy.id), "--issuer", "2", "-s", "submit"
    )
    assert code == 1 and "belongs to issuing body 1, not 2" in err


def test_help_has_examples(cli: CliRunner) -> None:
    for command in (["issuers", "add"], ["issuers", "list"], ["keys", "create"]):
        _, out, _ = _run(cli, *command, "--help")
        assert "Examples:" in out and "anchor " in out


def test_add_in_production_encrypts_with_the_password_and_names_the_registrars_command(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    password = tmp_path / "pw"
    password.write_text("a real password, 0600\n")
    password.chmod(0o600)
    monkeypatch.setenv("ANCHOR_ENV", "production")
    monkeypatch.setenv("ANCHOR_PUBLIC_BASE_URL", "https://verify.example")
    monkeypatch.setenv("ANCHOR_KEYSTORE_PASSWORD_FILE", str(password))
    code, out, err = _run(cli, "issuers", "add", "Ministère X", "--kind", "state_body", "--json")
    assert code == 0, err
    key = json.loads(out)["keys"][0]
    signer = KeystoreSigner.from_keystore(tmp_path / key["keystore"], "a real password, 0600")
    assert signer.address == key["address"]
    assert err.startswith("onboard it on chain (the registrar): .venv-brownie/bin/brownie run "
                          "scripts/bodies.py onboard state-body")  # fmt: skip
