"""Inputs that once gave a 500 at the API edge, each now a 422 naming what is wrong."""

from __future__ import annotations

from fastapi.testclient import TestClient

from anchor.proof import compact
from anchor.proof.bundle import ProofBundle
from api.schemas import MAX_ANCHORED_AT
from tests.proof.test_bundle import bundle_dict
from tests.support.api import Keys, MakeClient

PAST_9999 = 300_000_000_000
"""The reviewers' anchoredAt: past the year 9999 ("year out of range" when shown as a date)."""


def test_anchored_at_past_year_9999_is_422(make_client: MakeClient) -> None:
    bundle = bundle_dict(anchoredAt=PAST_9999)
    # The API trusts the bundle's registry (its nodes are dead): the last case is indeterminate.
    client = make_client(registry_address=bundle["registry"])
    url = compact.verification_url(ProofBundle.model_validate(bundle), "https://x/verify")
    for body in ({"bundle": bundle}, {"url": url}):
        r = client.post("/v1/verify", json=body)
        assert r.status_code == 422, r.text
        (error,) = r.json()["detail"]
        assert error["type"] == "proof" and "anchoredAt" in error["msg"]
        assert "9999" in error["msg"]
    last = client.post("/v1/verify", json={"bundle": bundle_dict(anchoredAt=MAX_ANCHORED_AT)})
    assert last.status_code == 200 and last.json()["verdict"] == "indeterminate"


def test_multipart_boundary_of_3000_characters_is_422(client: TestClient, keys: Keys) -> None:
    boundary = "b" * 3000
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
        f"permit\r\n--{boundary}--\r\n"
    ).encode()
    r = client.post(
        "/v1/receipts/file",
        content=body,
        headers=Keys.headers(keys.submit)
        | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == [
        {
            "loc": ["body", "file"],
            "msg": "the multipart boundary is longer than 70 characters",
            "type": "upload",
        }
    ]
    at_limit = "b" * 70
    ok = client.post(
        "/v1/receipts/file",
        content=body.replace(boundary.encode(), at_limit.encode()),
        headers=Keys.headers(keys.submit)
        | {"Content-Type": f"multipart/form-data; boundary={at_limit}"},
    )
    assert ok.status_code == 202, ok.text


def test_undecodable_json_bodies_are_422_not_400(client: TestClient, keys: Keys) -> None:
    headers = Keys.headers(keys.submit) | {"Content-Type": "application/json"}
    for body in (b"\xff", b'{"digests": [1' + b"0" * 5000 + b"]}"):
        for path in ("/v1/receipts", "/v1/verify"):
            r = client.post(path, content=body, headers=headers)
            assert r.status_code == 422, (path, r.text)
            assert r.json()["detail"][0]["type"] == "json_invalid"
