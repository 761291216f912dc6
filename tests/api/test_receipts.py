"""Submitting digests and files, reading receipts, and every error of those routes."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient

from anchor.store import Store
from api.config import ApiSettings
from tests.support.api import Keys, MakeClient

D1 = "ab" * 32
D2 = "CD" * 32


def submit(client: TestClient, key: str, digests: list[str], **headers: str) -> dict[str, object]:
    r = client.post("/v1/receipts", json={"digests": digests}, headers=Keys.headers(key) | headers)
    assert r.status_code == 202, r.text
    body: dict[str, object] = r.json()
    return body


def test_submit_commits_and_answers_202(client: TestClient, keys: Keys, store: Store) -> None:
    body = submit(client, keys.submit, [D1, "0x" + D2])
    receipts = body["receipts"]
    assert isinstance(receipts, list)
    assert [r["digest"] for r in receipts] == [D1, D2.lower()]
    assert {r["status"] for r in receipts} == {"pending"}
    stored = store.get_receipt(receipts[0]["id"], keys.integrator)
    assert stored is not None and stored.digest is not None and stored.digest.hex == D1


def test_idempotency_key_returns_same_receipts_and_conflicts(
    client: TestClient, keys: Keys
) -> None:
    first = submit(client, keys.submit, [D1], **{"Idempotency-Key": "order-42"})
    again = submit(client, keys.submit, [D1], **{"Idempotency-Key": "order-42"})
    assert first == again
    r = client.post(
        "/v1/receipts",
        json={"digests": [D2]},
        headers=Keys.headers(keys.submit) | {"Idempotency-Key": "order-42"},
    )
    assert r.status_code == 409
    assert "order-42" in r.json()["detail"]
    too_long = client.post(
        "/v1/receipts",
        json={"digests": [D2]},
        headers=Keys.headers(keys.submit) | {"Idempotency-Key": "k" * 256},
    )
    assert too_long.status_code == 422


def test_malformed_digest_names_index_and_problem(client: TestClient, keys: Keys) -> None:
    r = client.post(
        "/v1/receipts", json={"digests": [D1, "zz" * 32]}, headers=Keys.headers(keys.submit)
    )
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "digests", 1]
    assert "non-hex character 'z' at position 0" in error["msg"]
    short = client.post("/v1/receipts", json={"digests": ["ab"]}, headers=Keys.headers(keys.both))
    assert "expected 64 hex characters, got 2" in short.json()["detail"][0]["msg"]
    number = client.post("/v1/receipts", json={"digests": [7]}, headers=Keys.headers(keys.both))
    assert number.status_code == 422


def test_bad_bodies_are_422_never_500(client: TestClient, keys: Keys) -> None:
    h = Keys.headers(keys.submit)
    cases = [
        {"digests": []},
        {"digests": [D1] * 1001},
        {"digests": [D1], "extra": 1},
        {},
        {"digests": D1},
        [D1],
    ]
    for body in cases:
        r = client.post("/v1/receipts", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"][0]["loc"][0] == "body"
    broken = client.post(
        "/v1/receipts", content=b"{not json", headers=h | {"Content-Type": "application/json"}
    )
    assert broken.status_code == 422
    assert client.post("/v1/receipts", json={"digests": [D1] * 1000}, headers=h).status_code == 202


def test_json_body_cap_is_413(make_client: MakeClient, keys: Keys) -> None:
    client = make_client(ApiSettings(max_json_bytes=4096))
    h = Keys.headers(keys.submit) | {"Content-Type": "application/json"}
    declared = client.post("/v1/receipts", content=b" " * 5000, headers=h)
    assert declared.status_code == 413
    assert "4096" in declared.json()["detail"]

    def chunks() -> object:  # no Content-Length: the cap holds while streaming
        for _ in range(10):
            yield b" " * 1000

    streamed = client.post("/v1/receipts", content=chunks(), headers=h)  # type: ignore[arg-type]
    assert streamed.status_code == 413


def test_file_upload_hashes_the_stream(client: TestClient, keys: Keys) -> None:
    data = b"permit 2026-17\n" * 10_000
    r = client.post(
        "/v1/receipts/file",
        files={"file": ("permit.pdf", data, "application/pdf")},
        data={"note": "ignored"},
        headers=Keys.headers(keys.submit),
    )
    assert r.status_code == 202, r.text
    assert r.json()["receipts"][0]["digest"] == hashlib.sha256(data).hexdigest()


def test_file_upload_errors(make_client: MakeClient, keys: Keys) -> None:
    client = make_client(ApiSettings(max_upload_bytes=10_000))
    h = Keys.headers(keys.submit)
    big = client.post("/v1/receipts/file", files={"file": ("a", b"x" * 20_000)}, headers=h)
    assert big.status_code == 413
    small = client.post("/v1/receipts/file", files={"file": ("a", b"x" * 5_000)}, headers=h)
    assert small.status_code == 202
    no_part = client.post("/v1/receipts/file", files={"other": ("a", b"x")}, headers=h)
    assert no_part.status_code == 422
    assert no_part.json()["detail"][0]["loc"] == ["body", "file"]
    two = client.post(
        "/v1/receipts/file", files=[("file", ("a", b"x")), ("file", ("b", b"y"))], headers=h
    )
    assert two.status_code == 422
    not_multipart = client.post("/v1/receipts/file", content=b"abc", headers=h)
    assert not_multipart.status_code == 415
    unauthenticated = client.post("/v1/receipts/file", files={"file": ("a", b"x")})
    assert unauthenticated.status_code == 401


def test_read_receipt_status_and_ownership(client: TestClient, keys: Keys, store: Store) -> None:
    rid = submit(client, keys.submit, [D1])["receipts"][0]["id"]  # type: ignore[index]
    r = client.get(f"/v1/receipts/{rid}", headers=Keys.headers(keys.read))
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "pending" and body["proof"] is None and body["digest"] == D1
    assert client.get(f"/v1/receipts/{rid}", headers=Keys.headers(keys.other)).status_code == 404
    assert client.get("/v1/receipts/nope", headers=Keys.headers(keys.read)).status_code == 404
    assert client.get("/v1/receipts/a%20b", headers=Keys.headers(keys.read)).status_code == 422
    qr = client.get(f"/v1/receipts/{rid}/qr.png", headers=Keys.headers(keys.read))
    assert qr.status_code == 409
    assert qr.json()["status"] == "pending"
    store.erase(rid)
    gone = client.get(f"/v1/receipts/{rid}", headers=Keys.headers(keys.read))
    assert gone.status_code == 410
    assert gone.json()["status"] == "erased" and "erased" in gone.json()["detail"]
    svg = client.get(f"/v1/receipts/{rid}/qr.svg", headers=Keys.headers(keys.read))
    assert svg.status_code == 410


def test_authentication_and_scopes(client: TestClient, keys: Keys, store: Store) -> None:
    body = {"digests": [D1]}
    missing = client.post("/v1/receipts", json=body)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    unknown = client.post("/v1/receipts", json=body, headers=Keys.headers("ak_000000000000_x"))
    assert unknown.status_code == 401 and unknown.headers["WWW-Authenticate"] == "Bearer"
    basic = client.post("/v1/receipts", json=body, headers={"Authorization": "Basic eDp5"})
    assert basic.status_code == 401
    wrong_scope = client.post("/v1/receipts", json=body, headers=Keys.headers(keys.read))
    assert wrong_scope.status_code == 403 and "submit" in wrong_scope.json()["detail"]
    read_only = client.get("/v1/receipts/x", headers=Keys.headers(keys.submit))
    assert read_only.status_code == 403
    assert client.post("/v1/receipts", json=body, headers=Keys.headers(keys.admin)).status_code == (
        202
    )
    key_id, secret = store.create_api_key(keys.integrator, ["submit"])
    assert client.post("/v1/receipts", json=body, headers=Keys.headers(secret)).status_code == 202
    store.revoke_api_key(key_id)
    revoked = client.post("/v1/receipts", json=body, headers=Keys.headers(secret))
    assert revoked.status_code == 401 and revoked.headers["WWW-Authenticate"] == "Bearer"


def test_rate_limit_is_per_key_with_retry_after(make_client: MakeClient, keys: Keys) -> None:
    client = make_client(ApiSettings(rate_per_second=0.01, rate_burst=2))
    h = Keys.headers(keys.read)
    codes = [client.get("/v1/receipts/x", headers=h).status_code for _ in range(3)]
    assert codes == [404, 404, 429]
    limited = client.get("/v1/receipts/x", headers=h)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert client.get("/v1/receipts/x", headers=Keys.headers(keys.other)).status_code == 404


def test_erase_a_receipt_through_the_api(client: TestClient, keys: Keys, store: Store) -> None:
    rid = submit(client, keys.submit, [D1])["receipts"][0]["id"]  # type: ignore[index]
    url = f"/v1/receipts/{rid}"
    assert client.delete(url).status_code == 401
    assert client.delete(url, headers=Keys.headers(keys.read)).status_code == 403
    assert client.delete(url, headers=Keys.headers(keys.other)).status_code == 404
    erased = client.delete(url, headers=Keys.headers(keys.submit))
    assert erased.status_code == 200
    assert erased.json() == {"id": rid, "digest": None, "status": "erased"}
    assert client.delete(url, headers=Keys.headers(keys.submit)).json() == erased.json()
    assert client.get(url, headers=Keys.headers(keys.read)).status_code == 410
    receipt = store.get_receipt(rid)
    assert receipt is not None and receipt.digest is None and receipt.salt is None
