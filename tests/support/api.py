"""API helpers: a dead RPC URL, the keys of the API suite and the client factory's type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi.testclient import TestClient

DEAD_RPC = "http://127.0.0.1:1"
"""An RPC URL nothing listens on: connections are refused at once."""


@dataclass(frozen=True)
class Keys:
    """API keys of two integrators; ``headers(...)`` builds the Authorization header."""

    integrator: int
    submit: str
    read: str
    both: str
    admin: str
    other: str

    @staticmethod
    def headers(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


MakeClient = Callable[..., TestClient]
