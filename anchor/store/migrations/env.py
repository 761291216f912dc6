"""Alembic environment, configured in code by `anchor.store.engine.alembic_config`.

The caller passes an open connection in ``config.attributes["connection"]``; there is no
alembic.ini and no URL here. Offline (SQL script) mode is not supported.
"""

from __future__ import annotations

from alembic import context

from anchor.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("run migrations through anchor.store (Store.migrate), with a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
