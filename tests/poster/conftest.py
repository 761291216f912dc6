"""The API suite's fixtures (an app on a fresh SQLite store, keys of each scope), reused."""

from __future__ import annotations

from tests.api.conftest import client, keys, make_client, store

__all__ = ["client", "keys", "make_client", "store"]
