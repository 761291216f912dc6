"""POST /v1/documents and GET /v1/document-types (no chain needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from anchor.proof.doctypes import BUILTIN_DIR, builtin_types
from anchor.proof.statement import Statement, private_commitment
from anchor.store import Store
from tests.support.api import Keys, MakeClient
from tests.support.documents import (
    PERMIT_DIGEST,
    PERMIT_FACTS,
    PERMIT_PRIVATE,
    PERMIT_TYPE,
    permit_request,
)


def test_a_building_permit_is_taken_with_its_statement_digest(
    client: TestClient, keys: Keys, store: Store
) -> None:
    r = client.post("/v1/documents", json=permit_request(), headers=Keys.headers(keys.submit))
    assert r.status_code == 202, r.text
    out = r.json()
    assert out["status"] == "pending"
    assert (out["type"], out["typeVersion"]) == (PERMIT_TYPE, 1)
    assert out["digest"] != PERMIT_DIGEST  # the statement's digest, not the file's
    facts = store.document_facts(out["id"])
    assert facts is not None and facts.private_salt is not None
    commitment = private_commitment(facts.private_salt, PERMIT_PRIVATE)
    statement = Statement(PERMIT_TYPE, 1, PERMIT_FACTS, bytes.fromhex(PERMIT_DIGEST), commitment)
    assert out["digest"] == statement.digest().hex()


def test_the_file_digest_is_optional_for_a_permit(client: TestClient, keys: Keys) -> None:
    body = permit_request()
    del body["digest"], body["private"]
    r = client.post("/v1/documents", json=body, headers=Keys.headers(keys.submit))
    assert r.status_code == 202, r.text
    statement = Statement(PERMIT_TYPE, 1, PERMIT_FACTS)
    assert r.json()["digest"] == statement.digest().hex()


@pytest.mark.parametrize(
    ("changes", "loc", "words"),
    [
        ({"type": "lu.no-such-type"}, ["body", "type"], "unknown document type"),
        ({"facts": {**PERMIT_FACTS, "colour": "red"}}, ["body", "facts", "colour"], "not one of"),
        (
            {"facts": {k: v for k, v in PERMIT_FACTS.items() if k != "reference"}},
            ["body", "facts", "reference"],
            "is required",
        ),
        ({"facts": {**PERMIT_FACTS, "reference": "x" * 65}}, ["body", "facts", "reference"], "65"),
        (
            {"facts": {**PERMIT_FACTS, "decisionDate": "12.03.2026"}},
            ["body", "facts", "decisionDate"],
            "YYYY-MM-DD",
        ),
        (
            {"facts": {**PERMIT_FACTS, "decisionDate": "2026-02-30"}},
            ["body", "facts", "decisionDate"],
            "calendar",
        ),
        (
            {"facts": {**PERMIT_FACTS, "works": "two\nlines"}},
            ["body", "facts", "works"],
            "control",
        ),
        ({"facts": {**PERMIT_FACTS, "reference": 42}}, ["body", "facts", "reference"], "string"),
        ({"private": {"birthDate": "1970-01-01"}}, ["body", "private", "birthDate"], "not one of"),
        ({"digest": "abc"}, ["body", "digest"], "64"),
        (
            {"facts": {**PERMIT_FACTS, "x" * 5000: "1"}},
            ["body", "facts", "x" * 5000, "[key]"],
            "32",
        ),
        ({"issuerName": "Commune de Contern"}, ["body", "issuerName"], "not permitted"),
        ({"type": "document", "private": None}, ["body", "facts"], "no facts"),
    ],
)
def test_bad_documents_are_refused_naming_the_field(
    client: TestClient,
    keys: Keys,
    store: Store,
    changes: dict[str, object],
    loc: list[str],
    words: str,
) -> None:
    r = client.post(
        "/v1/documents", json=permit_request(**changes), headers=Keys.headers(keys.submit)
    )
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == loc
    assert words in error["msg"]
    assert store.pending_count() == 0  # nothing was stored


def test_an_operators_type_that_requires_the_file(
    make_client: MakeClient, keys: Keys, tmp_path: Path
) -> None:
    """A type of ANCHOR_DOCTYPES_DIR whose file is required: no digest, 422 naming it."""
    folder = tmp_path / "types"
    folder.mkdir()
    permit = json.loads((BUILTIN_DIR / "lu.building-permit.v1.json").read_text("utf-8"))
    own = {**permit, "id": "lu.contern.permit", "file": "required", "privateFacts": []}
    (folder / "lu.contern.permit.v1.json").write_text(json.dumps(own), "utf-8")
    client = make_client(doctypes_dir=folder)
    body = permit_request(type="lu.contern.permit", private=None)
    del body["digest"]
    r = client.post("/v1/documents", json=body, headers=Keys.headers(keys.submit))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "digest"]
    ok = client.post(
        "/v1/documents", json={**body, "digest": PERMIT_DIGEST}, headers=Keys.headers(keys.submit)
    )
    assert ok.status_code == 202 and ok.json()["type"] == "lu.contern.permit"
    listed = client.get("/v1/document-types").json()["types"]
    assert "lu.contern.permit" in {t["id"] for t in listed}


def test_the_generic_type_is_a_bare_digest(client: TestClient, keys: Keys, store: Store) -> None:
    body = {"type": "document", "digest": PERMIT_DIGEST}
    r = client.post("/v1/documents", json=body, headers=Keys.headers(keys.submit))
    assert r.status_code == 202, r.text
    assert r.json()["digest"] == PERMIT_DIGEST and r.json()["type"] == "document"
    assert store.document_facts(r.json()["id"]) is None


def test_idempotency_same_document_same_receipt_other_content_409(
    client: TestClient, keys: Keys, store: Store
) -> None:
    h = {**Keys.headers(keys.submit), "Idempotency-Key": "permis-2026-0042"}
    first = client.post("/v1/documents", json=permit_request(), headers=h)
    again = client.post("/v1/documents", json=permit_request(), headers=h)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    other = permit_request(facts={**PERMIT_FACTS, "works": "Démolition d'un garage"})
    conflict = client.post("/v1/documents", json=other, headers=h)
    assert conflict.status_code == 409
    assert "Idempotency-Key" in conflict.json()["detail"]
    assert store.pending_count() == 1


def test_scope_and_body_are_checked(client: TestClient, keys: Keys, store: Store) -> None:
    assert client.post("/v1/documents", json=permit_request()).status_code == 401
    read_only = client.post("/v1/documents", json=permit_request(), headers=Keys.headers(keys.read))
    assert read_only.status_code == 403
    lone = store.create_integrator("Without a body").id
    key = store.create_api_key(lone, ["submit"])[1]
    r = client.post("/v1/documents", json=permit_request(), headers=Keys.headers(key))
    assert r.status_code == 403 and "body" in r.json()["detail"]


def test_size_and_depth_limits_apply(client: TestClient, keys: Keys) -> None:
    huge = permit_request(facts={**PERMIT_FACTS, "works": "x" * 3_000_000})
    r = client.post("/v1/documents", json=huge, headers=Keys.headers(keys.submit))
    assert r.status_code == 413
    deep = '{"type": "lu.building-permit", "facts": ' + "[" * 100 + "]" * 100 + "}"
    r = client.post(
        "/v1/documents",
        content=deep,
        headers={**Keys.headers(keys.submit), "Content-Type": "application/json"},
    )
    assert r.status_code == 422


def test_document_types_are_public_cached_and_cross_origin(client: TestClient) -> None:
    r = client.get("/v1/document-types", headers={"Origin": "https://elsewhere.example"})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "public, max-age=300"
    assert r.headers["access-control-allow-origin"] == "*"
    types = {(t["id"], t["version"]): t for t in r.json()["types"]}
    assert set(types) == set(builtin_types())
    permit = types[(PERMIT_TYPE, 1)]
    assert [f["name"] for f in permit["facts"]] == list(PERMIT_FACTS)
    assert permit["labels"]["de"] == "Baugenehmigung" and permit["validityEnd"] == "validUntil"
    assert set(permit["notice"]) >= {"fr", "de", "en"}
    assert permit["privateFacts"] == ["holder"]  # names only
    assert permit["facts"][1] == {
        "name": "decisionDate",
        "kind": "date",
        "required": True,
        "labels": builtin_types()[(PERMIT_TYPE, 1)].facts[1].labels.model_dump(exclude_none=True),
    }
