"""The `anchor` command line: one Typer application with a sub-command per job."""

from __future__ import annotations

import sys

import typer

# typer >= 0.25 vendors click; its usage exceptions are not re-exported publicly.
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from anchor.cli import client, keys, service, tree, up, verify

app = typer.Typer(
    help="anchor: anchor document digests on a proof-of-authority chain, and verify them.\n\n"
    "Start with `anchor up` (the whole stack locally), then `anchor keys create`, "
    "`anchor submit`, `anchor proof`, `anchor qr` and `anchor verify`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("up")(up.up_command)
app.command("worker")(service.worker_command)
app.command("migrate")(service.migrate_command)
app.add_typer(service.keystore_app, name="keystore")
app.command("submit")(client.submit_command)
app.command("proof")(client.proof_command)
app.command("qr")(client.qr_command)
app.command("verify")(verify.verify_command)
app.add_typer(keys.app, name="keys")
app.add_typer(tree.app, name="tree")


#: Exit code for a malformed command line (sysexits EX_USAGE); `anchor verify` keeps 2 for
#: "indeterminate", so click's own 2 for usage errors is mapped here.
EX_USAGE = 64


def main() -> None:
    """Entry point of the `anchor` console script."""
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as e:
        e.ctx and typer.echo(e.ctx.get_help())  # type: ignore[func-returns-value]
        sys.exit(0)
    except UsageError as e:
        e.show()
        sys.exit(EX_USAGE)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
