"""`may_have_body`: the body guards (size cap, JSON depth) step aside only for bodyless requests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.limits import may_have_body


def scope(*headers: tuple[bytes, bytes]) -> dict[str, object]:
    return {"type": "http", "headers": list(headers)}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ((), False),
        (((b"content-length", b"0"),), False),
        (((b"host", b"x"), (b"accept", b"*/*")), False),
        (((b"content-length", b"12"),), True),
        (((b"Content-Length", b"12"),), True),
        (((b"transfer-encoding", b"chunked"),), True),
        (((b"content-length", b"0"), (b"transfer-encoding", b"chunked")), True),
    ],
)
def test_only_a_request_without_length_and_encoding_is_bodyless(
    headers: tuple[tuple[bytes, bytes], ...], expected: bool
) -> None:
    assert may_have_body(scope(*headers)) is expected


def test_a_chunked_deep_body_is_still_refused(client: TestClient) -> None:
    """An attacker hides the length: chunked transfer, no Content-Length, 100,000 brackets."""
    r = client.post(
        "/v1/verify",
        content=iter([b"[" * 50_000, b"[" * 50_000]),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert "nested deeper than" in r.json()["detail"][0]["msg"]


def test_a_get_with_a_declared_deep_body_is_still_measured(client: TestClient) -> None:
    r = client.request("GET", "/v1/receipts/abc", content=b"[" * 100_000)
    assert r.status_code == 422
