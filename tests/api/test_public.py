"""Public routes without a chain: health, page, static files, OpenAPI, malformed input."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from api.internal import create_internal_app
from tests.support.api import Keys

ROOT = "0x" + "ab" * 32


def test_health_ready_metrics(client: TestClient, keys: Keys) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "store": "ok", "chain": "unavailable"}
    client.post("/v1/receipts", json={"digests": ["ab" * 32]}, headers=Keys.headers(keys.submit))
    assert client.get("/metrics").status_code == 404  # on the internal port only
    internal = TestClient(create_internal_app(client.app))  # type: ignore[arg-type]
    assert internal.get("/healthz").json() == {"status": "ok"}
    detailed = internal.get("/readyz")
    assert detailed.status_code == 503 and "node 1 did not answer" in detailed.json()["chain"]
    metrics = internal.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert "anchor_pending_digests 1.0" in metrics.text
    assert 'route="/v1/receipts",status="202"' in metrics.text


def test_page_and_static(client: TestClient) -> None:
    page = client.get("/verify")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert client.get("/static/verify/index.html").status_code == 200
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert client.get(asset).status_code == 200, asset
    assert client.get("/static/nope.js").status_code == 404


def test_roots_validation_and_unconfigured(client: TestClient) -> None:
    key = {"key": "0x" + "cd" * 20}
    assert client.get("/v1/roots/0x1234", params=key).status_code == 422
    assert client.get(f"/v1/roots/{ROOT}", params={"key": "nope"}).status_code == 422
    assert client.get(f"/v1/roots/{ROOT}").status_code == 422  # the key is required
    # The page never sends a leaf; the route has no such parameter.
    assert client.get(f"/v1/roots/{ROOT}", params={"leaf": ROOT} | key).status_code == 503
    unconfigured = client.get(f"/v1/roots/{ROOT}", params=key)
    assert unconfigured.status_code == 503
    assert unconfigured.json()["detail"] == (
        "the service is not configured for this request; retry later"
    )
    preflight = client.options(
        f"/v1/roots/{ROOT}",
        headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    other = client.get("/healthz", headers={"Origin": "https://x.example"})
    assert "access-control-allow-origin" not in other.headers


def test_verify_rejects_malformed_input(client: TestClient) -> None:
    neither = client.post("/v1/verify", json={})
    assert neither.status_code == 422
    both = client.post("/v1/verify", json={"bundle": {}, "url": "x"})
    assert both.status_code == 422
    bad_bundle = client.post("/v1/verify", json={"bundle": {"version": 1, "digest": "0x12"}})
    assert bad_bundle.status_code == 422
    assert "proof bundle" in bad_bundle.json()["detail"][0]["msg"]
    other_version = client.post("/v1/verify", json={"bundle": {"version": 3}})
    assert "version 3" in other_version.json()["detail"][0]["msg"]
    bad_url = client.post("/v1/verify", json={"url": "https://verify.example/verify#v1.!!"})
    assert bad_url.status_code == 422
    bad_digest = client.post("/v1/verify", json={"url": "https://x/#v1.AA", "digest": "12"})
    assert bad_digest.status_code == 422
    assert bad_digest.json()["detail"][0]["loc"] == ["body", "digest"]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return resolved


def test_openapi_has_examples_for_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            ok = next(code for code in op["responses"] if code.startswith("2"))
            content = op["responses"][ok].get("content", {})
            assert content, (method, path)
            has_example = False
            for media in content.values():
                schema = _resolve(spec, media.get("schema", {}))
                has_example |= "example" in media or "examples" in schema
                has_example |= media == {}  # binary image: nothing to show
            assert has_example, (method, path)
            if "requestBody" in op:
                (media,) = op["requestBody"]["content"].values()
                body = _resolve(spec, media["schema"])
                assert "examples" in body or media["schema"].get("type") == "object", path
