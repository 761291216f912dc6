"""Fixtures of the CLI tests: a migrated SQLite store in the test's directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from anchor.store import Store, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite store in the test's directory."""
    opened = open_store(f"sqlite:///{tmp_path}/anchor.db", migrate=True)
    yield opened
    opened.close()
