"""Fuzzing the API edge with hypothesis: bodies for /v1/verify and /v1/receipts, multipart
uploads, roots, headers. Every answer is documented and below 500 (503 only where the chain or
the store is documented as down)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.config import ApiSettings
from tests.proof.test_bundle import bundle_dict
from tests.proof.test_compact import bundles
from tests.proof.test_fuzz import FIELDS, json_values
from tests.support.api import Keys, MakeClient

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
UNLIMITED = ApiSettings(
    rate_per_second=1e6,
    rate_burst=10**6,
    verify_limit="1000000/minute",
    roots_limit="1000000/minute",
    failed_auth_limit="1000000/minute",
)
latin1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=300).map(
    lambda text: text.encode("latin-1")
)  # header values as bytes: any latin-1 text a client may send
content_types = st.sampled_from(
    [None, "application/json", "application/json; charset=utf-16", "text/plain",
     "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/+json"]
)  # fmt: skip


@pytest.fixture
def fuzz(make_client: MakeClient) -> TestClient:
    # The API trusts the registry of `bundle_dict` (its nodes are dead): verdicts, never a 503.
    return make_client(UNLIMITED, registry_address=bundle_dict()["registry"])


def post_json(client: TestClient, path: str, body: Any, **headers: str | bytes) -> Any:
    """POST ``body`` as JSON, NaN and Infinity included (Python's decoder takes them)."""
    raw = json.dumps(body).encode()
    return client.post(path, content=raw, headers={"Content-Type": "application/json"} | headers)


DOCUMENTED = {200, 202, 401, 403, 404, 409, 410, 413, 415, 422, 429}


def no_server_error(r: Any, *allowed: int) -> None:
    """A documented answer: never a 5xx (but ``allowed``), never FastAPI's bare 400."""
    assert r.status_code in DOCUMENTED or r.status_code in allowed, (r.status_code, r.text[:300])
    if r.status_code == 422:
        detail = r.json()["detail"]
        assert isinstance(detail, list) and all({"loc", "msg", "type"} <= set(d) for d in detail)


@FUZZ
@given(
    st.one_of(
        json_values,
        st.builds(lambda v: {"bundle": v}, json_values),
        st.builds(lambda v: {"url": v}, json_values),
        st.builds(lambda v, d: {"url": v, "digest": d}, st.text(max_size=200), json_values),
    )
)
def test_verify_any_json(fuzz: TestClient, body: Any) -> None:
    no_server_error(post_json(fuzz, "/v1/verify", body))


@FUZZ
@given(st.sampled_from(FIELDS), json_values)
def test_verify_mutated_bundles(fuzz: TestClient, field: str, value: Any) -> None:
    data = bundle_dict()
    data[field] = value
    r = post_json(fuzz, "/v1/verify", {"bundle": data})
    no_server_error(r)
    assert r.status_code in (200, 422)


@FUZZ
@given(bundles())
def test_verify_any_valid_bundle_by_json_and_url(fuzz: TestClient, bundle: Any) -> None:
    from anchor.proof.compact import verification_url

    for body in ({"bundle": bundle.to_dict()}, {"url": verification_url(bundle, "https://x/v")}):
        r = fuzz.post("/v1/verify", json=body)
        no_server_error(r)
        assert r.status_code in (200, 422)  # 422: anchoredAt past the year 9999


@FUZZ
@given(st.binary(max_size=2000), content_types)
def test_verify_and_submit_any_bytes(
    fuzz: TestClient, keys: Keys, raw: bytes, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    no_server_error(fuzz.post("/v1/verify", content=raw, headers=headers))
    headers |= Keys.headers(keys.submit)
    no_server_error(fuzz.post("/v1/receipts", content=raw, headers=headers))


@FUZZ
@given(json_values, latin1, st.booleans())
def test_submit_any_json_and_idempotency_key(
    fuzz: TestClient, keys: Keys, body: Any, key: bytes, send_key: bool
) -> None:
    headers = Keys.headers(keys.submit) | ({"Idempotency-Key": key} if send_key else {})
    no_server_error(post_json(fuzz, "/v1/receipts", body, **headers))
    digests = {"digests": [body] if not isinstance(body, list) else body}
    no_server_error(post_json(fuzz, "/v1/receipts", digests, **headers))


@FUZZ
@given(latin1, st.text(max_size=80), st.none() | st.text(max_size=80))
def test_any_authorization_root_and_receipt_id(
    fuzz: TestClient, authorization: bytes, segment: str, key: str | None
) -> None:
    headers = {"Authorization": authorization}
    segment = quote(segment, safe="")
    no_server_error(
        fuzz.get(f"/v1/receipts/{segment}", headers=headers), 405
    )  # "" is /v1/receipts/
    params = {} if key is None else {"key": key}
    no_server_error(fuzz.get(f"/v1/roots/{segment}", params=params), 503)


# -- multipart uploads -----------------------------------------------------------------------

boundary_chars = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


@st.composite
def multipart(draw: st.DrawFn) -> tuple[bytes, str]:
    """A multipart body and its Content-Type, well formed or broken in one of many ways."""
    boundary = draw(st.text(boundary_chars, min_size=0, max_size=90))
    wire = draw(st.sampled_from([boundary, boundary + "x", ""]))
    parts = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        name = draw(st.sampled_from(["file", "other", "", "fi\x00le"]))
        disposition = draw(
            st.sampled_from(
                [f'form-data; name="{name}"; filename="a.pdf"', f"form-data; name={name}",
                 "form-data", "", f'attachment; name="{name}"']
            )
        )  # fmt: skip
        headers = [f"Content-Disposition: {disposition}"] if disposition else []
        headers += draw(st.lists(st.text(boundary_chars, max_size=30), max_size=2))
        data = draw(st.binary(max_size=200))
        parts.append("\r\n".join(headers).encode() + b"\r\n\r\n" + data)
    body = b"".join(b"--" + wire.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    body += draw(st.sampled_from([b"--" + wire.encode() + b"--\r\n", b"", b"--"]))
    if draw(st.booleans()):
        cut = draw(st.integers(min_value=0, max_value=len(body)))
        body = body[:cut] + draw(st.binary(max_size=20))
    quoted = draw(st.booleans())
    value = f'"{boundary}"' if quoted else boundary
    content_type = draw(
        st.sampled_from(
            [f"multipart/form-data; boundary={value}", f"multipart/form-data;boundary={value}",
             f"multipart/form-data; charset=utf-8; boundary={value}", "multipart/form-data",
             f"multipart/mixed; boundary={value}", f"Multipart/Form-Data; BOUNDARY={value}"]
        )
    )  # fmt: skip
    return body, content_type


@FUZZ
@given(multipart())
def test_upload_any_multipart_body(fuzz: TestClient, keys: Keys, upload: tuple[bytes, str]) -> None:
    body, content_type = upload
    r = fuzz.post(
        "/v1/receipts/file",
        content=body,
        headers=Keys.headers(keys.submit) | {"Content-Type": content_type},
    )
    no_server_error(r)
    assert r.status_code in (202, 413, 415, 422), r.text


@FUZZ
@given(st.binary(max_size=3000), latin1)
def test_upload_any_bytes_and_content_type(
    fuzz: TestClient, keys: Keys, raw: bytes, content_type: bytes
) -> None:
    r = fuzz.post(
        "/v1/receipts/file",
        content=raw,
        headers=Keys.headers(keys.submit) | {"Content-Type": content_type},
    )
    no_server_error(r)
    assert r.status_code in (202, 413, 415, 422), r.text
