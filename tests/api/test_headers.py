"""Security headers sent by the server, the vendored Swagger UI, and production settings."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from anchor.errors import ConfigError
from anchor.settings import load_settings
from api.headers import API_CSP, DOCS_CSP, PAGE_CSP
from api.routes.page import PAGE, STATIC_DIR
from tests.support.api import MakeClient

VENDOR = STATIC_DIR / "vendor" / "swagger-ui"


def directives(policy: str) -> dict[str, str]:
    return dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())


def test_page_and_static_files_send_the_page_policy(client: TestClient) -> None:
    for path in ("/verify", "/static/verify/index.html", "/static/vendor/sha3.min.js"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-security-policy"] == PAGE_CSP
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in r.headers  # http:// base URL


def test_page_policy_is_the_meta_policy_with_frame_ancestors() -> None:
    meta = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', PAGE.read_text())
    assert meta is not None
    expected = directives(meta.group(1)) | {"frame-ancestors": "'none'"}
    assert directives(PAGE_CSP) == expected


def test_api_answers_and_errors_send_headers(client: TestClient) -> None:
    answers = [
        client.get("/healthz"),
        client.get("/openapi.json"),
        client.post("/v1/verify", json={}),  # 422
        client.post("/v1/verify", content=b"[" * 100),  # 422 from the depth guard
        client.get("/v1/receipts/x"),  # 401
        client.get("/nope"),  # 404
    ]
    for r in answers:
        assert r.headers["content-security-policy"] == API_CSP, r.request.url
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"


def test_hsts_when_the_public_base_url_is_https(make_client: MakeClient) -> None:
    client = make_client(public_base_url="https://verify.example")
    for path in ("/verify", "/healthz", "/static/verify/style.css"):
        assert client.get(path).headers["strict-transport-security"] == (
            "max-age=31536000; includeSubDomains"
        )


def test_docs_load_swagger_ui_from_local_files(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
    assert docs.headers["content-security-policy"] == DOCS_CSP
    assert "'unsafe-inline'" not in DOCS_CSP
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(a.startswith("/static/") for a in assets), assets
    assert "<script>" not in docs.text  # no inline script
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/redoc").status_code == 404  # it loaded from a CDN
    assert "/docs" not in client.get("/openapi.json").json()["paths"]


def test_vendored_swagger_ui_is_the_pinned_release_with_its_licence() -> None:
    sums = (VENDOR / "SHA256SUMS").read_text().split("\n")
    listed = dict(reversed(line.split("  ", 1)) for line in sums if line)
    assert {"LICENSE", "swagger-ui-bundle.js", "swagger-ui.css"} <= set(listed)
    for name, digest in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert "Apache License" in (VENDOR / "LICENSE").read_text()
    assert "5.35.0" in (VENDOR / "README.md").read_text()


def test_production_refuses_an_http_public_base_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(env="production", public_base_url="http://verify.example", data_dir=tmp_path)
    assert str(refused.value) == (
        "ANCHOR_PUBLIC_BASE_URL 'http://verify.example' must start with https:// in production "
        "(ANCHOR_ENV=production): citizens open it from the QR codes"
    )
    ok = load_settings(env="production", public_base_url="https://verify.example")
    assert ok.env == "production"
    assert load_settings(public_base_url="http://127.0.0.1:8000").env == "development"
