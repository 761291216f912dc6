"""A typed document and a bare digest in one batch, anchored on anvil: v2 and v1 side by side."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from web3 import Web3

from anchor.chain.devchain import Anvil
from anchor.chain.registry import Registry
from anchor.proof import compact
from anchor.proof.bundle import ProofBundleV2, parse_bundle
from anchor.store import Store
from anchor.verify import offline_checks
from tests.support.api import Keys, MakeClient, anchor_pending
from tests.support.chain import Accounts
from tests.support.documents import PERMIT_DIGEST, PERMIT_FACTS, PERMIT_TYPE, permit_request

pytestmark = pytest.mark.chain

BASE = "https://verify.example"


@pytest.fixture
def chain_client(make_client: MakeClient, anvil: Anvil, registry: Registry) -> TestClient:
    return make_client(
        rpc_urls=[anvil.url], registry_address=registry.address, public_base_url=BASE
    )


def test_typed_and_bare_receipts_of_one_batch(
    chain_client: TestClient,
    keys: Keys,
    store: Store,
    w3: Web3,
    accounts: Accounts,
    registry: Registry,
) -> None:
    submit = Keys.headers(keys.submit)
    typed = chain_client.post("/v1/documents", json=permit_request(), headers=submit).json()
    bare = chain_client.post("/v1/receipts", json={"digests": [PERMIT_DIGEST]}, headers=submit)
    bare_id = bare.json()["receipts"][0]["id"]
    read = Keys.headers(keys.read)
    pending = chain_client.get(f"/v1/receipts/{typed['id']}", headers=read).json()
    assert pending["status"] == "pending" and pending["proof"] is None
    assert chain_client.get(f"/v1/receipts/{typed['id']}/qr.png", headers=read).status_code == 409

    anchor_pending(store, w3, accounts.issuer, registry, 2)

    v2 = chain_client.get(f"/v1/receipts/{typed['id']}", headers=read).json()
    bundle = parse_bundle(v2["proof"])
    assert isinstance(bundle, ProofBundleV2) and v2["proof"]["version"] == 2
    assert (bundle.type_id, dict(bundle.facts)) == (PERMIT_TYPE, PERMIT_FACTS)
    assert bundle.digest == "0x" + typed["digest"] and bundle.file == "0x" + PERMIT_DIGEST
    assert v2["verificationUrl"].startswith(BASE + "/verify#v2.")
    assert compact.parse_verification_url(v2["verificationUrl"]) == bundle
    assert all(c.ok for c in offline_checks(bundle, digest=PERMIT_DIGEST) if c.required)

    v1 = chain_client.get(f"/v1/receipts/{bare_id}", headers=read).json()
    assert v1["proof"]["version"] == 1 and v1["proof"]["digest"] == "0x" + PERMIT_DIGEST
    assert v1["verificationUrl"].startswith(BASE + "/verify#v1.")
    assert v1["proof"]["root"] == v2["proof"]["root"]  # one batch, two versions

    svg = chain_client.get(f"/v1/receipts/{typed['id']}/qr.svg", headers=read)
    assert svg.status_code == 200 and svg.content.startswith(b"<svg")
    verdict = chain_client.post("/v1/verify", json={"url": v2["verificationUrl"]})
    assert verdict.status_code == 200 and verdict.json()["verdict"] == "valid", verdict.text

    # A facts row changed in the database behind the service's back: no bundle is handed out
    # that would not verify (503, the store is inconsistent), and the bare receipt is unharmed.
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE document_facts SET facts = replace(facts, '2026/0042', '2026/0043')"
        )
    forged = chain_client.get(f"/v1/receipts/{typed['id']}", headers=read)
    assert forged.status_code == 503, forged.text
    assert chain_client.get(f"/v1/receipts/{bare_id}", headers=read).status_code == 200
