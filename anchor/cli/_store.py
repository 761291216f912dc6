"""Opening the store for a command that reads it: an existing, migrated store, never a new one.

Only `anchor migrate`, `anchor worker` and `anchor up` create or upgrade a store. Every other
command (`anchor keys`, `anchor batches`) opens the one named by ``--database-url`` or the
``ANCHOR_*`` settings and, when there is none there, says where it looked and how to make one,
without creating a file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from anchor.cli.output import fail
from anchor.errors import AnchorError
from anchor.settings import load_settings
from anchor.store import Store, open_store


def open_existing_store(database_url: str | None) -> Store:
    """Open the existing store, or fail saying where it looked and how to create it."""
    try:
        url = database_url or load_settings().resolved_database_url
        parsed = make_url(url)
        path = parsed.database if parsed.get_backend_name() == "sqlite" else None
        if path not in (None, "", ":memory:") and not Path(str(path)).exists():
            raise fail(
                f"there is no store at {path}: set ANCHOR_DATABASE_URL (or ANCHOR_DATA_DIR) to "
                "the service's store, or create this one with `anchor migrate`"
            )
        store = open_store(url)
        if store.schema_revision() is None:
            store.close()
            raise fail(
                f"the store at {parsed.render_as_string()} has no schema: run `anchor migrate` "
                "with the same ANCHOR_DATABASE_URL"
            )
    except AnchorError as e:
        raise fail(str(e)) from e
    return store


@contextmanager
def existing_store(database_url: str | None) -> Iterator[Store]:
    """`open_existing_store` for one block: a store error ends the command with its sentence,
    and the store is closed whatever happens."""
    store = open_existing_store(database_url)
    try:
        yield store
    except AnchorError as e:
        raise fail(str(e)) from e
    finally:
        store.close()
