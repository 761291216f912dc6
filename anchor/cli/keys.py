"""`anchor keys create|list|revoke`: API keys of integrators, straight in the store.

An integrator belongs to exactly one issuing body (`anchor issuers add`): a new integrator is
made with ``--issuer``, and its receipts are anchored under that body's key. A key is shown
once, at creation; only its SHA-256 is stored. Every command opens an existing,
migrated store and never creates one (`anchor.cli._store`).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from anchor.cli._store import existing_store
from anchor.cli.output import fail
from anchor.store import ApiKey

SCOPES = ("submit", "read", "status", "admin")

app = typer.Typer(help="Create, list and revoke the API keys of integrators.", no_args_is_help=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(help="SQLAlchemy URL of the store (default: from ANCHOR_* settings)"),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]


def _key_dict(key: ApiKey) -> dict[str, object]:
    return {
        "id": key.id,
        "integratorId": key.integrator_id,
        "issuerId": key.issuer_id,
        "prefix": key.prefix,
        "scopes": list(key.scopes),
        "createdAt": key.created_at.isoformat(),
        "revokedAt": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@app.command("create")
def create(
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            "-s",
            help="submit, read, status (changes documents' statuses on chain) or admin "
            "(repeatable)",
        ),
    ],
    integrator_id: Annotated[
        int | None, typer.Option(help="Existing integrator to give the key to")
    ] = None,
    new_integrator: Annotated[
        str | None,
        typer.Option(help="Create an integrator with this name first (needs --issuer)"),
    ] = None,
    issuer: Annotated[
        int | None,
        typer.Option(
            "--issuer",
            help="The issuing body the integrator submits for (`anchor issuers list`); "
            "also gives an older integrator without one its body",
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create an API key and print it ONCE (store it in the integrator's secret store).

    An integrator belongs to exactly one issuing body: its documents are anchored under that
    body's key, and it can never submit for another.

    Examples:

        anchor keys create --issuer 1 --new-integrator "Contern: civil registry" -s submit -s read

        anchor keys create --integrator-id 3 -s read --json

        anchor keys create --integrator-id 3 -s status   # suspend, lift, revoke, supersede, extend

        anchor keys create --integrator-id 3 --issuer 1 -s submit   # made before bodies
    """
    unknown = sorted(set(scope) - set(SCOPES))
    if unknown:
        raise fail(f"unknown scope {unknown[0]!r}: use {', '.join(SCOPES)}")
    if (integrator_id is None) == (new_integrator is None):
        raise fail("give exactly one of --integrator-id and --new-integrator")
    if new_integrator is not None and issuer is None:
        raise fail(
            "a new integrator belongs to one issuing body: add --issuer ID (the ids: `anchor "
            'issuers list`; a new body: `anchor issuers add "Commune de Contern" --kind commune`)'
        )
    with existing_store(database_url) as store:
        if new_integrator is not None:
            integrator_id = store.create_integrator(new_integrator, issuer).id
        assert integrator_id is not None
        if issuer is not None:
            store.bind_integrator(integrator_id, issuer)
        elif store.get_integrator(integrator_id) is None:
            raise fail(f"no integrator {integrator_id}")
        key_id, secret = store.create_api_key(integrator_id, scope)
        bound = store.get_integrator(integrator_id)
    body = None if bound is None else bound.issuer_id
    if as_json:
        out = {"id": key_id, "integratorId": integrator_id, "issuerId": body,
               "scopes": sorted(set(scope))}  # fmt: skip
        typer.echo(json.dumps(out | {"key": secret}))
    else:
        where = f"issuing body {body}" if body is not None else "no issuing body: it cannot submit"
        typer.echo(
            f"key {key_id} for integrator {integrator_id} ({', '.join(sorted(set(scope)))}), "
            f"{where}"
        )
        typer.echo(secret)


@app.command("list")
def list_keys(
    integrator_id: Annotated[int | None, typer.Option(help="Only this integrator's keys")] = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """List keys (never their secrets), revoked ones included.

    Example:

        anchor keys list --integrator-id 3 --json
    """
    with existing_store(database_url) as store:
        keys = store.list_api_keys(integrator_id)
    if as_json:
        typer.echo(json.dumps([_key_dict(k) for k in keys]))
        return
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "live"
        body = "-" if k.issuer_id is None else f"issuer {k.issuer_id}"
        typer.echo(
            f"{k.id}\tintegrator {k.integrator_id}\t{body}\tak_{k.prefix}_…\t"
            f"{','.join(k.scopes)}\t{state}"
        )


@app.command("revoke")
def revoke(
    key_id: Annotated[int, typer.Argument(help="Id of the key (see `anchor keys list`)")],
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Revoke a key at once: its next request is answered 401 (idempotent).

    Example:

        anchor keys revoke 7
    """
    with existing_store(database_url) as store:
        key = store.revoke_api_key(key_id)
    if as_json:
        typer.echo(json.dumps(_key_dict(key)))
    else:
        typer.echo(f"key {key.id} revoked at {key.revoked_at}")
