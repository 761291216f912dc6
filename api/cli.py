"""The `anchor` console script: the commands of `anchor.cli` plus the two that run the API.

`anchor up` (the whole stack on its embedded defaults) and `anchor serve` (the API alone, one or
more processes) compose the FastAPI application, so they live on this side of the one-way line:
`api` imports `anchor`, never the reverse.
"""

from __future__ import annotations

from anchor.cli import build_app, run
from api.serve import serve_command
from api.up import up_command


def main() -> None:
    """Entry point of the `anchor` console script."""
    app = build_app()
    app.command("up")(up_command)
    app.command("serve")(serve_command)
    run(app)
