"""Deeply nested JSON is refused with 422 before any decoder recursion; the process lives."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.depth import MAX_JSON_DEPTH, RECURSION_LIMIT, deeper_than, json_depth
from tests.support.api import Keys
from tests.support.live import live_server

NESTED = b"[" * 70_000 + b"]" * 70_000
"""The reviewers' body: 140 KB, 70,000 nested arrays (it used to end the process)."""


def test_the_api_runs_with_a_bounded_recursion_limit(client: TestClient) -> None:
    assert sys.getrecursionlimit() == RECURSION_LIMIT == 10_000


def test_deep_json_does_not_kill_a_real_server(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        assert server.recursion_limit == 10_000
        for path in ("/v1/verify", "/v1/receipts"):
            r = httpx.post(
                server.url + path,
                content=NESTED,
                headers={"Content-Type": "application/json"},
                timeout=30,
            )
            assert r.status_code == 422, (path, r.text)
            (error,) = r.json()["detail"]
            assert error == {
                "loc": ["body"],
                "msg": f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels",
                "type": "json_depth",
            }
        assert server.alive()
        ok = httpx.post(server.url + "/v1/verify", json={"url": "https://x/verify#v1.AA"})
        assert ok.status_code == 422 and ok.json()["detail"][0]["type"] == "proof"


def test_every_json_route_and_any_content_type(client: TestClient, keys: Keys) -> None:
    body = b"[" * 65 + b"]" * 65
    for content_type in ("application/json", "text/plain", None):
        headers = {} if content_type is None else {"Content-Type": content_type}
        for path in ("/v1/verify", "/v1/receipts"):
            r = client.post(path, content=body, headers=headers | Keys.headers(keys.submit))
            assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_depth"
    at_limit = {"digests": [], "x": [[[]]]}
    assert json_depth(str(at_limit).encode()) == 4
    shallow = client.post("/v1/receipts", content=b"[" * 64 + b"]" * 64, headers={})
    assert shallow.status_code == 401  # within the limit: on to authentication


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"", 0),
        (b'{"a": [1, {"b": "[[[["}]}', 3),
        (b'["\\"[[[", []]', 2),
        (b'"[[[[', 0),  # an unterminated string hides nothing from the decoder either
        (b"]]]][[", 2),
        ('["∀",'.encode("utf-16-le") + "[".encode("utf-16-le") * 100, 101),
        (b"\xff\xfe\xff", 0),
    ],
)
def test_json_depth(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32"])
@pytest.mark.parametrize("depth", [0, 1, 2, 3, 5, 8])
def test_the_shortcut_agrees_with_the_measure(encoding: str, depth: int) -> None:
    body = ('{"k": ' + "[" * depth + '"[{x"' + "]" * depth + "}").encode(encoding)
    for limit in range(10):
        assert deeper_than(body, limit) is (json_depth(body) > limit), (encoding, depth, limit)
