"""Proofs, QR codes, roots and verification against a real registry on anvil."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web3 import Web3

from anchor.chain.devchain import Anvil
from anchor.chain.registry import Registry
from anchor.proof import compact
from anchor.store import Store
from api.internal import create_internal_app
from api.schemas import VerdictOut
from api.schemas_roots import RootAnswerOut
from tests.support.api import DEAD_RPC, Keys, MakeClient, anchor_pending
from tests.support.bodies import CONTERN, CONTERN_CODE, Bodies, Body, names_dict
from tests.support.chain import Accounts
from tests.support.lookalike import deploy_lookalike, forged_bundle
from tests.support.qr import scan_qr
from tests.support.rpc_proxy import RecordingProxy

pytestmark = pytest.mark.chain

DIGESTS = ["11" * 32, "22" * 32, "33" * 32]
BASE = "https://verify.example"
ORIGIN = {"Origin": "https://elsewhere.example"}


@pytest.fixture
def chain_client(make_client: MakeClient, anvil: Anvil, registry: Registry) -> TestClient:
    # No reuse of registry readings here, so that a revocation shows at once.
    return make_client(
        rpc_urls=[anvil.url],
        registry_address=registry.address,
        public_base_url=BASE,
        registry_cache_ttl=0,
    )


def anchor_all(
    client: TestClient, keys: Keys, store: Store, w3: Web3, accounts: Accounts, registry: Registry
) -> tuple[list[str], bytes]:
    """Submit DIGESTS, close their batch, anchor its root on chain, mark it anchored."""
    r = client.post("/v1/receipts", json={"digests": DIGESTS}, headers=Keys.headers(keys.submit))
    ids = [x["id"] for x in r.json()["receipts"]]
    batch = anchor_pending(store, w3, accounts.issuer, registry, len(DIGESTS))
    return ids, batch.root


def test_proof_qr_roots_and_verify(
    chain_client: TestClient,
    keys: Keys,
    store: Store,
    w3: Web3,
    accounts: Accounts,
    registry: Registry,
    bodies: Bodies,
    contern: Body,
    tmp_path: Path,
) -> None:
    ids, root = anchor_all(chain_client, keys, store, w3, accounts, registry)
    h = Keys.headers(keys.read)
    r = chain_client.get(f"/v1/receipts/{ids[1]}", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "anchored"
    bundle = body["proof"]
    assert bundle["digest"] == "0x" + DIGESTS[1]
    assert bundle["root"] == "0x" + root.hex()
    assert bundle["issuer"] == accounts.issuer.address.lower()  # Contern's anchoring key
    assert "issuerName" not in bundle  # names come from the registry only
    assert bundle["registry"] == registry.address.lower()
    assert body["verificationUrl"].startswith(BASE + "/verify#v1.")

    verdict = chain_client.post("/v1/verify", json={"bundle": bundle, "digest": DIGESTS[1]})
    assert verdict.status_code == 200, verdict.text
    shown = verdict.json()
    assert shown["verdict"] == "valid" and shown["authorised"] is True
    assert shown["issuerName"] == CONTERN.fr and shown["issuerNameNow"] is None
    assert shown["body"]["kind"] == "commune" and shown["body"]["code"] == CONTERN_CODE
    assert VerdictOut.model_validate(shown).issuer_name_now is None
    in_german = chain_client.post("/v1/verify?lang=de", json={"bundle": bundle})
    assert in_german.json()["issuerName"] == CONTERN.de
    by_url = chain_client.post("/v1/verify", json={"url": body["verificationUrl"]})
    assert by_url.json()["verdict"] == "valid"
    wrong = chain_client.post("/v1/verify", json={"bundle": bundle, "digest": DIGESTS[0]})
    assert wrong.json()["verdict"] == "invalid"

    png = chain_client.get(f"/v1/receipts/{ids[1]}/qr.png", headers=h)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    svg = chain_client.get(f"/v1/receipts/{ids[1]}/qr.svg", headers=h)
    assert svg.status_code == 200 and svg.content.startswith(b"<svg")

    key = {"key": bundle["issuer"]}
    roots = chain_client.get(f"/v1/roots/0x{root.hex()}", params=key, headers=ORIGIN)
    assert roots.status_code == 200, roots.text
    assert roots.headers["access-control-allow-origin"] == "*"
    info = roots.json()
    assert info["anchored"] is True and info["leafCount"] == 3
    assert info["key"] == accounts.issuer.address.lower()
    assert info["body"] == {
        "id": contern.id, "kind": "commune", "code": CONTERN_CODE, "status": "active",
        "namesAtAnchor": names_dict(CONTERN), "namesNow": names_dict(CONTERN),
    }  # fmt: skip
    assert info["authorised"] is True
    assert info["anchoredAt"] == bundle["anchoredAt"]
    assert info["rootStatus"] is None and info["documents"] == []
    parsed = RootAnswerOut.model_validate(info)  # the answer reads back into its documented schema
    assert parsed.body.names_at_anchor == parsed.body.names_now and parsed.documents == []
    assert info["chainId"] == 31337 and info["registry"] == registry.address.lower()

    proof = [bytes.fromhex(p[2:]) for p in bundle["proof"]]
    bodies.revoke_document(contern.id, root, proof, bytes.fromhex(bundle["leaf"][2:]), 7)
    after = chain_client.post("/v1/verify", json={"bundle": bundle})
    assert after.json()["verdict"] == "invalid"
    (revocation,) = after.json()["revocations"]
    assert revocation["of"] == "document" and revocation["reason"] == 7
    assert VerdictOut.model_validate(after.json()).revocations[0].reason_name == "site-specific"
    # Asked about the root only, the route lists its documents with a history by leaf.
    (document,) = chain_client.get(f"/v1/roots/0x{root.hex()}", params=key).json()["documents"]
    assert document["leaf"] == bundle["leaf"] and document["reason"] == 7
    assert document["state"] == "revoked" and document["validUntil"] is None
    assert document["actor"] == accounts.revoker.address.lower()
    assert document["successor"] is None
    (change,) = document["history"]
    assert change["kind"] == "revoked" and change["reason"] == 7 and not change["annulled"]
    bodies.revoke_root(contern.id, root, 2)
    revoked = chain_client.get(f"/v1/roots/0x{root.hex()}", params=key).json()["rootStatus"]
    assert revoked["kind"] == "revoked" and revoked["reason"] == 2
    assert revoked["actor"] == accounts.revoker.address.lower() and revoked["annulled"] is False

    unknown = chain_client.get(f"/v1/roots/0x{'00' * 31}01", params=key)
    assert unknown.status_code == 404 and f"0x{'00' * 31}01" in unknown.json()["detail"]
    other_body = {"key": accounts.issuer2.address}  # SIGI never anchored Contern's root
    assert chain_client.get(f"/v1/roots/0x{root.hex()}", params=other_body).status_code == 404
    assert chain_client.get("/readyz").json() == {"status": "ready", "store": "ok", "chain": "ok"}
    assert chain_client.get("/metrics").status_code == 404  # internal port only
    internal = TestClient(create_internal_app(chain_client.app))  # type: ignore[arg-type]
    metrics = internal.get("/metrics").text
    assert 'anchor_http_requests_total{method="GET",route="/v1/roots/{root}",status="200"}' in (
        metrics
    )

    # The QR code decodes to the verification URL.
    path = tmp_path / "qr.png"
    path.write_bytes(png.content)
    (decoded,) = scan_qr(path)
    assert decoded == body["verificationUrl"]
    assert compact.parse_verification_url(decoded).to_dict() == bundle


def test_chain_outage_is_503_and_indeterminate(
    make_client: MakeClient,
    chain_client: TestClient,
    keys: Keys,
    store: Store,
    w3: Web3,
    accounts: Accounts,
    registry: Registry,
) -> None:
    ids, root = anchor_all(chain_client, keys, store, w3, accounts, registry)
    bundle = chain_client.get(f"/v1/receipts/{ids[0]}", headers=Keys.headers(keys.read)).json()[
        "proof"
    ]
    dead = make_client(registry_address=registry.address)  # RPC URL refuses connections
    down = dead.get(f"/v1/roots/0x{root.hex()}", params={"key": bundle["issuer"]}, headers=ORIGIN)
    assert down.status_code == 503
    assert "cannot be reached" in down.json()["detail"]
    assert down.headers["access-control-allow-origin"] == "*"
    outage = dead.get(f"/v1/receipts/{ids[0]}", headers=Keys.headers(keys.read))
    assert outage.status_code == 503
    indeterminate = dead.post("/v1/verify", json={"bundle": bundle})
    assert indeterminate.json()["verdict"] == "indeterminate"
    chain = next(c for c in indeterminate.json()["checks"] if c["name"] == "chain")
    assert chain["actual"].startswith("node 1 did not answer")
    assert DEAD_RPC not in indeterminate.text  # the API's nodes are not named to the public
    ready = dead.get("/readyz")
    assert ready.status_code == 503 and ready.json()["store"] == "ok"


def test_public_verification_uses_its_own_nodes_one_client_and_a_cache(
    make_client: MakeClient,
    chain_client: TestClient,
    keys: Keys,
    store: Store,
    w3: Web3,
    anvil: Anvil,
    accounts: Accounts,
    registry: Registry,
) -> None:
    ids, root = anchor_all(chain_client, keys, store, w3, accounts, registry)
    read = Keys.headers(keys.read)
    bundle = chain_client.get(f"/v1/receipts/{ids[0]}", headers=read).json()["proof"]
    with RecordingProxy(anvil.url) as proxy:
        # The worker's nodes are dead: public reads go through ANCHOR_PUBLIC_RPC_URLS only.
        public = make_client(
            rpc_urls=[DEAD_RPC], public_rpc_urls=[proxy.url], registry_address=registry.address
        )
        per_request = []
        for _ in range(5):
            proxy.reset()
            answer = public.post("/v1/verify", json={"bundle": bundle})
            assert answer.json()["verdict"] == "valid", answer.text
            assert proxy.url not in answer.text
            per_request.append(proxy.count())
        proxy.reset()
        key = {"key": bundle["issuer"]}
        roots = public.get(f"/v1/roots/0x{root.hex()}", params=key)
        assert roots.status_code == 200
        roots_calls = proxy.methods()
        proxy.reset()
        assert public.get(f"/v1/roots/0x{root.hex()}", params=key).status_code == 200
        roots_again = proxy.count()
    print(f"JSON-RPC calls per POST /v1/verify: first {per_request[0]}, then {per_request[1:]}")
    assert per_request == [6, 0, 0, 0, 0]  # 10 on every request before (issue 11, item 3)
    # One client per process: the roots route reads through the node the verifier bound (web3
    # may ask eth_chainId once per thread of the pool), and through the same short cache.
    assert public.app.state.chain.client.url == proxy.url  # type: ignore[attr-defined]
    # status, and the root's whole history in one rootHistory call (empty: no change under it)
    assert [m for m in roots_calls if m != "eth_chainId"] == ["eth_call", "eth_call"]
    assert roots_again == 0


def test_public_verification_of_a_lookalike_registry_is_invalid_and_never_calls_it(
    make_client: MakeClient, w3: Web3, anvil: Anvil, accounts: Accounts, registry: Registry
) -> None:
    lookalike = deploy_lookalike(w3, accounts.other, accounts.issuer.address)
    bundle = forged_bundle(w3, lookalike, accounts)
    with RecordingProxy(anvil.url) as proxy:
        client = make_client(rpc_urls=[proxy.url], registry_address=registry.address)
        answer = client.post("/v1/verify", json={"bundle": bundle.to_dict()})
        assert proxy.touching(lookalike.address) == []
    body = answer.json()
    assert answer.status_code == 200 and body["verdict"] == "invalid"
    (failed,) = [c for c in body["checks"] if c["ok"] is False]
    assert failed["name"] == "registry" and "issued in another registry" in failed["reason"]
    assert body["issuerName"] is None and body["body"] is None  # nothing from the forger
