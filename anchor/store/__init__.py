"""The durable store of the anchoring service (SQLite by default, PostgreSQL by URL).

See docs/store.md for the schema, the state machines and the migrations.
"""

from __future__ import annotations

from anchor.store.errors import (
    IdempotencyConflict,
    InvalidTransitionError,
    NotFoundError,
    StoreError,
)
from anchor.store.records import ApiKey, Batch, Integrator, OutboxEntry, Receipt
from anchor.store.store import Store, open_store

__all__ = [
    "ApiKey",
    "Batch",
    "IdempotencyConflict",
    "Integrator",
    "InvalidTransitionError",
    "NotFoundError",
    "OutboxEntry",
    "Receipt",
    "Store",
    "StoreError",
    "open_store",
]
