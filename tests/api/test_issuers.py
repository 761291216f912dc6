"""An integrator submits for its own body only; one without a body cannot submit."""

from __future__ import annotations

from fastapi.testclient import TestClient

from anchor.store import Store
from tests.support.api import Keys

D1 = "ab" * 32


def test_receipts_belong_to_the_integrators_body(
    client: TestClient, keys: Keys, store: Store
) -> None:
    mine = client.post("/v1/receipts", json={"digests": [D1]}, headers=Keys.headers(keys.both))
    theirs = client.post("/v1/receipts", json={"digests": [D1]}, headers=Keys.headers(keys.other))
    assert mine.status_code == theirs.status_code == 202
    mine_id, theirs_id = mine.json()["receipts"][0]["id"], theirs.json()["receipts"][0]["id"]
    my_body = store.get_receipt(mine_id).issuer_id  # type: ignore[union-attr]
    their_body = store.get_receipt(theirs_id).issuer_id  # type: ignore[union-attr]
    assert my_body is not None and their_body is not None and my_body != their_body
    integrator = store.get_integrator(keys.integrator)
    assert integrator is not None and my_body == integrator.issuer_id
    read = client.get(f"/v1/receipts/{mine_id}", headers=Keys.headers(keys.both))
    assert read.status_code == 200 and read.json()["issuerId"] == my_body
    # Nothing in a request names a body: an extra field is refused, never obeyed.
    forged = client.post(
        "/v1/receipts",
        json={"digests": [D1], "issuerId": their_body},
        headers=Keys.headers(keys.both),
    )
    assert forged.status_code == 422
    # And another integrator's receipt is not found, whatever its body.
    other = client.get(f"/v1/receipts/{theirs_id}", headers=Keys.headers(keys.both))
    assert other.status_code == 404


def test_an_integrator_without_a_body_cannot_submit(client: TestClient, store: Store) -> None:
    legacy = store.create_integrator("Made before bodies").id
    _, key = store.create_api_key(legacy, ["submit", "read"])
    for answer in (
        client.post("/v1/receipts", json={"digests": [D1]}, headers=Keys.headers(key)),
        client.post(
            "/v1/receipts/file",
            files={"file": ("a.pdf", b"%PDF-1.7", "application/pdf")},
            headers=Keys.headers(key),
        ),
    ):
        assert answer.status_code == 403, answer.text
        assert answer.json()["detail"].startswith(
            f"integrator {legacy} belongs to no issuing body, so it cannot submit: create a key "
            f"with `anchor keys create --issuer ID --integrator-id {legacy}`"
        )
    assert store.pending_count() == 0
    # It may still read (its older receipts).
    assert client.get("/v1/receipts/nope", headers=Keys.headers(key)).status_code == 404
