"""`anchor worker` and `anchor keystore`: running the anchoring service and making its key."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer

from anchor.chain.keystore import create_keystore
from anchor.cli.output import fail
from anchor.errors import AnchorError
from anchor.private_files import read_private_text
from anchor.service.logs import configure_logging
from anchor.settings import load_settings

keystore_app = typer.Typer(
    help="Make the encrypted keystore that holds the service's relayer key.",
    no_args_is_help=True,
)


@keystore_app.command("create")
def keystore_create(
    path: Annotated[
        Path, typer.Argument(help="Where to write the keystore (refuses to overwrite)")
    ],
    password_file: Annotated[
        Path | None, typer.Option(help="Read the password from this file instead of asking")
    ] = None,
    import_key_env: Annotated[
        str | None,
        typer.Option(help="Import the private key held in this environment variable"),
    ] = None,
) -> None:
    """Create an eth-account encrypted keystore (scrypt) and print its address.

    Example:

        anchor keystore create data/signer.json --password-file /run/secrets/anchor-pw

    Then run the worker with ANCHOR_KEYSTORE_PATH=data/signer.json and
    ANCHOR_KEYSTORE_PASSWORD_FILE=/run/secrets/anchor-pw. This key is the relayer: it sends the
    bodies' signed anchors and holds no role; fund it on a paid-gas chain. The bodies' own keys
    are made by `anchor issuers add`.
    """
    if password_file is not None:
        try:
            password = read_private_text(password_file, "password file").rstrip("\n")
        except AnchorError as e:
            raise fail(str(e)) from e
    else:
        password = getpass.getpass("Keystore password: ")
        if getpass.getpass("Repeat it: ") != password:
            raise fail("the two passwords differ")
    key = None
    if import_key_env:
        key = os.environ.get(import_key_env)
        if not key:
            raise fail(f"the environment variable {import_key_env} is empty")
    try:
        address = create_keystore(path, password, key)
    except AnchorError as e:
        raise fail(str(e)) from e
    typer.echo(address)


def worker_command(
    once: Annotated[
        bool, typer.Option(help="Run one iteration and exit (for cron or tests)")
    ] = False,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on 127.0.0.1:PORT")
    ] = None,
    plain_logs: Annotated[bool, typer.Option(help="Plain text logs instead of JSON lines")] = False,
) -> None:
    """Run the batcher and the submitter until stopped (SIGTERM or Ctrl-C).

    It anchors for every issuing body of the store (`anchor issuers list`) once the registrar
    has onboarded it: relayed by this worker's key (ANCHOR_SUBMIT_MODE=relay, the default), or
    sent by each body's own key (direct). Reads its settings from ANCHOR_* environment variables
    (see docs/operations.md).

    Example:

        ANCHOR_RPC_URLS=http://10.0.0.5:8545,http://10.0.0.6:8545 ANCHOR_CHAIN_ID=1337 \\
        ANCHOR_REGISTRY_ADDRESS=0x... ANCHOR_KEYSTORE_PATH=data/signer.json \\
        ANCHOR_KEYSTORE_PASSWORD_FILE=/run/secrets/anchor-pw ANCHOR_CONFIRMATIONS=0 \\
        ANCHOR_FEE_MODE=zero ANCHOR_POA=true anchor worker --metrics-port 9102
    """
    from prometheus_client import start_http_server

    from anchor.service.worker import Worker

    configure_logging(json_lines=not plain_logs)
    try:
        settings = load_settings()
        worker = Worker.from_settings(settings)
    except AnchorError as e:
        raise fail(str(e)) from e
    if metrics_port is not None:
        start_http_server(metrics_port, addr="127.0.0.1", registry=worker.metrics.registry)
    worker.install_signal_handlers()
    with worker.store.writer_lock(worker.submitter.relayer.address):
        if once:
            worker.run_once()
        else:
            worker.run()


def migrate_command() -> None:
    """Create or upgrade the store's schema (Alembic), then print its revision.

    The worker migrates at start; run this before starting the API alone on a new database.

    Example:

        ANCHOR_DATABASE_URL=postgresql+psycopg://anchor@db/anchor anchor migrate
    """
    from anchor.store import open_store

    try:
        settings = load_settings()
        store = open_store(settings.resolved_database_url, migrate=True)
        revision = store.schema_revision()
        store.close()
    except AnchorError as e:
        raise fail(str(e)) from e
    typer.echo(f"store at revision {revision}")
