"""The `anchor` command line: one Typer application with a sub-command per job."""

from __future__ import annotations

import typer

from anchor.cli import service, tree

app = typer.Typer(
    help="anchor: anchor document digests on a proof-of-authority chain, and verify them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(tree.app, name="tree")
app.add_typer(service.keystore_app, name="keystore")
app.command("worker")(service.worker_command)


def main() -> None:
    """Entry point of the `anchor` console script."""
    app()
