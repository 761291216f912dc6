"""`Store`, the one object the intake, the batcher, the submitter and the API talk to."""

from __future__ import annotations

import secrets
from pathlib import Path

from anchor.store.batches import BatchesMixin
from anchor.store.documents import DocumentsMixin
from anchor.store.engine import create_store_engine
from anchor.store.intake import IntakeMixin
from anchor.store.issuers import IssuersMixin
from anchor.store.keys import KeysMixin
from anchor.store.locks import LocksMixin
from anchor.store.pepper import KeyHasher, pepper_beside
from anchor.store.receipts import ReceiptsMixin
from anchor.store.statuses import StatusesMixin
from anchor.store.submission import SubmissionMixin
from anchor.store.watch import WatchMixin


class Store(
    IntakeMixin,
    DocumentsMixin,
    BatchesMixin,
    IssuersMixin,
    KeysMixin,
    LocksMixin,
    ReceiptsMixin,
    StatusesMixin,
    SubmissionMixin,
    WatchMixin,
):
    """The durable state of the service: bodies, keys, receipts, batches, the outbox, the cursor.

    Every SQL statement of the service is written in this package.

    Every method runs in its own transaction, commits before it returns, wraps database errors
    into StoreError, and returns frozen records (`anchor.store.records`), never ORM objects.
    Build it with `open_store`; call `migrate` once before use.
    """


def open_store(url: str, *, migrate: bool = False, key_pepper: bytes | None = None) -> Store:
    """Open the store at ``url``; with ``migrate=True`` also upgrade its schema to head.

    ``url`` is a SQLAlchemy URL: ``sqlite:////abs/path/anchor.db`` (default backend) or
    ``postgresql+psycopg://user@host:5432/db``. Raise StoreError on a bad URL or backend.
    ``key_pepper`` keys the hash of Idempotency-Keys (`anchor.store.pepper`); without it a
    SQLite file store uses the pepper file beside the database, an in-memory one a random
    pepper, and a PostgreSQL store refuses Idempotency-Keys.
    """
    engine = create_store_engine(url)
    if key_pepper is None and engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            key_pepper = pepper_beside(Path(database))
        else:
            key_pepper = secrets.token_bytes(32)
    store = Store(engine, KeyHasher(key_pepper))
    if migrate:
        store.migrate()
    return store
