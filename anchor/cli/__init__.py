"""The `anchor` commands that need no HTTP server: one Typer application, a sub-command per job.

`build_app` returns the application; the console script (`api.cli:main`) adds `anchor up` and
`anchor serve`, which compose the API, so that this package never imports `api`. `run` is the
one place that turns click's usage errors into the exit codes of `anchor.cli.output`.
"""

from __future__ import annotations

import sys

import typer

# typer >= 0.25 vendors click; its usage exceptions are not re-exported publicly.
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from anchor.cli import batches, client, issuers, keys, poster, service, tree, verify
from anchor.cli.output import EXIT_INTERRUPTED, EXIT_USAGE


def build_app() -> typer.Typer:
    """The `anchor` application with every command of this package."""
    app = typer.Typer(
        help="anchor: anchor document digests on a proof-of-authority chain, and verify them.\n\n"
        "Start with `anchor up` (the whole stack locally), then `anchor issuers add`, "
        "`anchor keys create --issuer`, "
        "`anchor submit`, `anchor proof`, `anchor qr` and `anchor verify`.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    app.command("worker")(service.worker_command)
    app.command("migrate")(service.migrate_command)
    app.add_typer(service.keystore_app, name="keystore")
    app.command("submit")(client.submit_command)
    app.command("proof")(client.proof_command)
    app.command("qr")(client.qr_command)
    app.command("poster")(poster.poster_command)
    app.command("verify")(verify.verify_command)
    app.add_typer(issuers.app, name="issuers")
    app.add_typer(keys.app, name="keys")
    app.add_typer(batches.app, name="batches")
    app.add_typer(tree.app, name="tree")
    return app


def run(app: typer.Typer) -> None:
    """Run ``app`` on the command line and exit with the status of `anchor.cli.output`."""
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as e:
        e.ctx and typer.echo(e.ctx.get_help())  # type: ignore[func-returns-value]
        sys.exit(0)
    except UsageError as e:
        e.show()
        sys.exit(EXIT_USAGE)  # click's own 2 would read as `verify`'s indeterminate
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def main() -> None:
    """Run the commands of this package alone (the console script adds `up` and `serve`)."""
    run(build_app())
