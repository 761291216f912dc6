"""The durable store of the anchoring service (SQLite by default, PostgreSQL by URL).

See docs/store.md for the schema, the state machines and the migrations.
"""

from __future__ import annotations

from anchor.store.documents import DocumentFacts, NewDocument, ReceiptRead
from anchor.store.errors import (
    IdempotencyConflict,
    InvalidTransitionError,
    NoIssuerError,
    NotFoundError,
    StoreError,
)
from anchor.store.issuers import NewKey
from anchor.store.records import ApiKey, Batch, Integrator, Issuer, IssuerKey, OutboxEntry, Receipt
from anchor.store.statuses import ChangePendingError, StatusChangeRecord
from anchor.store.store import Store, open_store

__all__ = [
    "ApiKey",
    "Batch",
    "ChangePendingError",
    "DocumentFacts",
    "IdempotencyConflict",
    "Integrator",
    "InvalidTransitionError",
    "Issuer",
    "IssuerKey",
    "NewDocument",
    "NewKey",
    "NoIssuerError",
    "NotFoundError",
    "OutboxEntry",
    "Receipt",
    "ReceiptRead",
    "StatusChangeRecord",
    "Store",
    "StoreError",
    "open_store",
]
