"""The ``--backends`` option of the benchmarks: backend names, checked.

``--backends postgresql`` once ran SQLite under the PostgreSQL label in one benchmark and
nothing at all in another; an unknown name is now an error, and the usual spellings of
PostgreSQL are taken.
"""

from __future__ import annotations

import argparse

__all__ = ["backend_list"]

_NAMES = {"sqlite": "sqlite", "postgres": "postgres", "postgresql": "postgres", "pg": "postgres"}


def backend_list(text: str) -> list[str]:
    """``text`` (comma-separated names) as a list of ``sqlite`` and ``postgres``, in its order,
    each once; argparse's error for any other name."""
    names: list[str] = []
    for part in text.split(","):
        name = _NAMES.get(part.strip().lower())
        if name is None:
            raise argparse.ArgumentTypeError(
                f"unknown backend {part.strip()!r}: give sqlite, postgres or both, comma-separated"
            )
        if name not in names:
            names.append(name)
    return names
