"""`anchor serve`: the HTTP API alone, in one or several processes, on an existing store."""

from __future__ import annotations

from typing import Annotated

import typer

from anchor.cli.output import fail
from anchor.errors import AnchorError
from anchor.settings import load_settings


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="API processes sharing the port (use PostgreSQL for >1)")
    ] = 1,
) -> None:
    """Serve the HTTP API (uvicorn) with the settings of the ANCHOR_* environment variables.

    The store must exist (`anchor migrate`); the worker runs apart (`anchor worker`). Several
    processes need the store on PostgreSQL, and ANCHOR_REDIS_URL to share their rate limits.
    /metrics and the detailed /readyz are served on ANCHOR_INTERNAL_HOST:ANCHOR_INTERNAL_PORT
    (127.0.0.1) when the port is set. Example:

        ANCHOR_DATABASE_URL=postgresql+psycopg://anchor@db/anchor ANCHOR_INTERNAL_PORT=9464 \
          anchor serve --workers 4
    """
    import uvicorn

    try:
        settings = load_settings()
    except AnchorError as e:
        raise fail(str(e)) from e
    if workers > 1 and not settings.resolved_database_url.startswith("postgresql"):
        raise fail("several API processes need a PostgreSQL store (ANCHOR_DATABASE_URL)")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
