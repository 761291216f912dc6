"""`anchor issuers add|list`: the issuing bodies the service hosts, and their keys.

`add` writes the body's two keys (anchoring and status) as encrypted keystores under
``<data dir>/keys/`` (mode 0600, the password of ANCHOR_KEYSTORE_PASSWORD(_FILE); in
development without one, a fixed development password) and records the body and its keys in the
store in one transaction. The body is *onboarded* once the registrar registers it and its keys
on chain; the worker notices and records its id on chain. Until then its digests wait, pending.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from anchor.chain.signer import create_body_keystore
from anchor.cli._store import existing_store
from anchor.cli.output import EXIT_USAGE, fail
from anchor.errors import AnchorError
from anchor.settings import DEV_KEYSTORE_PASSWORD, Settings, load_settings
from anchor.store import Issuer, NewKey
from anchor.types import IssuerKind, KeyPurpose

#: The scrypt cost of keystores under the public development password: they protect nothing.
DEV_SCRYPT_N = 2**12

app = typer.Typer(
    help="Add and list the issuing bodies the service hosts (communes, syndicates, ...).",
    no_args_is_help=True,
)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(help="SQLAlchemy URL of the store (default: from ANCHOR_* settings)"),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]
_KINDS = ", ".join(k.value for k in IssuerKind)


def issuer_dict(issuer: Issuer) -> dict[str, object]:
    """The JSON form of a body, as `anchor issuers list --json` prints it."""
    return {
        "id": issuer.id,
        "kind": issuer.kind.value,
        "code": issuer.code,
        "names": {"fr": issuer.name_fr, "de": issuer.name_de, "en": issuer.name_en,
                  "lb": issuer.name_lb},
        "chainBodyId": issuer.chain_body_id,
        "keys": [
            {"purpose": k.purpose.value, "address": k.address, "keystore": k.keystore,
             "retiredAt": k.retired_at.isoformat() if k.retired_at else None}
            for k in issuer.keys
        ],
        "createdAt": issuer.created_at.isoformat(),
    }  # fmt: skip


def onboard_command(issuer: Issuer) -> str:
    """The registrar's command (docs/operations.md, "Issuing bodies") that registers ``issuer``
    and its two keys on chain."""
    words = [issuer.kind.value.replace("_", "-")]
    if issuer.code:
        words.append(f"code={issuer.code}")
    names = (("fr", issuer.name_fr), ("de", issuer.name_de), ("en", issuer.name_en),
             ("lb", issuer.name_lb))  # fmt: skip
    words += [f'"{lang}={name}"' for lang, name in names if name]
    for purpose in KeyPurpose:
        key = issuer.key_for(purpose)
        if key is not None:
            words.append(f"{purpose.value}={key.address}")
    return (
        f".venv-brownie/bin/brownie run scripts/bodies.py onboard {' '.join(words)} --network NAME"
    )


def _password(settings: Settings) -> tuple[str, int | None]:
    password = settings.body_keystore_secret()
    return password, DEV_SCRYPT_N if password == DEV_KEYSTORE_PASSWORD else None


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The body's name in French, as citizens read it")],
    kind: Annotated[str, typer.Option(help=f"One of {_KINDS}")],
    code: Annotated[str | None, typer.Option(help="Official code (unique), e.g. 0301")] = None,
    name_de: Annotated[str | None, typer.Option(help="The name in German")] = None,
    name_en: Annotated[str | None, typer.Option(help="The name in English")] = None,
    name_lb: Annotated[str | None, typer.Option(help="The name in Luxembourgish")] = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Add an issuing body and make its two keys (anchoring, status).

    Prints the body's id and key addresses. The body anchors nothing until the registrar
    onboards it on chain: the command to run is printed (`anchor up` onboards it by itself on
    its development chain within seconds). Then bind an integrator to it with
    `anchor keys create --issuer ID --new-integrator NAME -s submit -s read`.

    Examples:

        anchor issuers add "Commune de Contern" --kind commune --code 0301 --name-lb "Gemeng Conter"

        anchor issuers add "Office social de Hesperange" --kind social_office --json
    """
    try:
        body_kind = IssuerKind(kind)
    except ValueError:
        raise fail(f"unknown kind {kind!r}: use one of {_KINDS}", EXIT_USAGE) from None
    try:
        settings = load_settings()
        password, iterations = _password(settings)
    except AnchorError as e:
        raise fail(str(e)) from e
    with existing_store(database_url) as store:
        store.check_code_free(code)
        made: list[Path] = []
        try:
            keys = []
            for purpose in (KeyPurpose.ANCHORING, KeyPurpose.STATUS):
                address, relative = create_body_keystore(
                    settings.data_dir, password, iterations=iterations
                )
                made.append(settings.data_dir / relative)
                keys.append(NewKey(purpose, address, relative))
            issuer = store.create_issuer(
                body_kind, name, keys, code=code, name_de=name_de, name_en=name_en,
                name_lb=name_lb,
            )  # fmt: skip
        except AnchorError:
            for path in made:  # no body was recorded: its keystores would be orphans
                path.unlink(missing_ok=True)
            raise
    if as_json:
        typer.echo(json.dumps(issuer_dict(issuer)))
    else:
        typer.echo(f"issuer {issuer.id}\t{issuer.kind.value}\t{issuer.code or '-'}\t{name}")
        for key in issuer.keys:
            typer.echo(
                f"  {key.purpose.value:<10}{key.address}\t{settings.data_dir / key.keystore}"
            )
    if settings.env == "production":
        typer.echo(f"onboard it on chain (the registrar): {onboard_command(issuer)}", err=True)
    else:
        typer.echo(
            "not onboarded yet: a running `anchor up` registers it on its chain within seconds; "
            f"elsewhere the registrar runs {onboard_command(issuer)}",
            err=True,
        )
    typer.echo(
        f"bind an integrator: anchor keys create --issuer {issuer.id} --new-integrator NAME "
        "-s submit -s read",
        err=True,
    )


def _line(issuer: Issuer) -> str:
    onchain = "not onboarded" if issuer.chain_body_id is None else f"body {issuer.chain_body_id}"
    names = " / ".join(n for n in (issuer.name_fr, issuer.name_de, issuer.name_en,
                                     issuer.name_lb) if n)  # fmt: skip
    keys = ", ".join(
        f"{k.purpose.value} {k.address}{' (retired)' if k.retired_at else ''}" for k in issuer.keys
    )
    return f"{issuer.id}\t{issuer.kind.value}\t{issuer.code or '-'}\t{names}\t{onchain}\t{keys}"


@app.command("list")
def list_issuers(database_url: DatabaseUrl = None, as_json: AsJson = False) -> None:
    """List the bodies: id, kind, code, names, on-chain body id (or "not onboarded"), keys.

    Examples:

        anchor issuers list

        anchor issuers list --json | jq '.[] | select(.chainBodyId == null) | .id'
    """
    with existing_store(database_url) as store:
        issuers = store.list_issuers()
    if as_json:
        typer.echo(json.dumps([issuer_dict(i) for i in issuers]))
        return
    if not issuers:
        typer.echo(
            'no issuing body yet: add one with `anchor issuers add "Commune de Contern" '
            "--kind commune --code 0301`",
            err=True,
        )
    for issuer in issuers:
        typer.echo(_line(issuer))
