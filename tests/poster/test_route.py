"""GET /v1/receipts/{id}/poster.pdf and `anchor poster`: real app, real anvil and registry.

Typed documents go in through POST /v1/documents, their batch is anchored on the registry on
anvil, and the poster's QR code, scanned by zbarimg, is the ``verificationUrl`` that
GET /v1/receipts/{id} gives for the same receipt.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web3 import Web3

from anchor.chain.registry import Registry
from anchor.cli import build_app
from anchor.cli.output import EXIT_FAILURE
from anchor.proof import compact
from anchor.store import Store
from tests.poster.pdf import page_info, text_of, to_png
from tests.support.api import Keys, MakeClient, anchor_pending
from tests.support.chain import Accounts
from tests.support.documents import PERMIT_FACTS, permit_request
from tests.support.qr import scan_qr
from tests.support.server import Server

BASE = "https://verify.example.lu"
SECOND = PERMIT_FACTS | {"reference": "2026/0043", "address": "8, rue Principale, L-5326 Contern"}


def _poster(client: TestClient, receipt_id: str, key: str | None, **params: str) -> httpx.Response:
    headers = Keys.headers(key) if key else {}
    return client.get(f"/v1/receipts/{receipt_id}/poster.pdf", params=params, headers=headers)


def test_the_route_checks_key_scope_owner_and_state(client: TestClient, keys: Keys) -> None:
    r = client.post("/v1/documents", json=permit_request(), headers=Keys.headers(keys.submit))
    assert r.status_code == 202, r.text
    receipt = r.json()["id"]
    path = f"/v1/receipts/{receipt}/poster.pdf"
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer ak_nope"}).status_code == 401
    assert client.get(path, headers=Keys.headers(keys.submit)).status_code == 403
    other = client.get(path, headers=Keys.headers(keys.other))
    assert other.status_code == 404  # another integrator's receipt is not told to exist
    assert (
        client.get("/v1/receipts/nope/poster.pdf", headers=Keys.headers(keys.read)).status_code
        == 404
    )
    pending = client.get(path, headers=Keys.headers(keys.read))
    assert pending.status_code == 409
    assert pending.json()["detail"] == (
        f"receipt {receipt!r} is pending, not anchored yet: its poster exists once it is anchored"
    )
    assert pending.json()["status"] == "pending"
    for bad in ({"size": "A5"}, {"lang": "lb"}):
        answer = client.get(path, params=bad, headers=Keys.headers(keys.read))
        assert answer.status_code == 422, answer.text


@pytest.fixture
def chain_client(make_client: MakeClient, anvil: object, registry: Registry) -> TestClient:
    return make_client(
        rpc_urls=[anvil.url],
        registry_address=registry.address,
        public_base_url=BASE,
    )


@pytest.mark.chain
def test_the_poster_of_an_anchored_permit_carries_its_verification_url(
    chain_client: TestClient,
    keys: Keys,
    store: Store,
    w3: Web3,
    accounts: Accounts,
    registry: Registry,
    tmp_path: Path,
) -> None:
    submit = Keys.headers(keys.submit)
    first = chain_client.post("/v1/documents", json=permit_request(), headers=submit).json()["id"]
    second = chain_client.post(
        "/v1/documents", json=permit_request(facts=SECOND), headers=submit
    ).json()["id"]
    bare = chain_client.post("/v1/receipts", json={"digests": ["ab" * 32]}, headers=submit)
    bare_id = bare.json()["receipts"][0]["id"]
    anchor_pending(store, w3, accounts.issuer, registry, 3)

    urls = []
    for receipt_id, reference in ((first, "2026/0042"), (second, "2026/0043")):
        detail = chain_client.get(f"/v1/receipts/{receipt_id}", headers=Keys.headers(keys.read))
        assert detail.status_code == 200, detail.text
        url = detail.json()["verificationUrl"]
        assert url.startswith(BASE + "/verify#v2.")
        r = _poster(chain_client, receipt_id, keys.read)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        stem = reference.replace("/", "-")
        assert r.headers["content-disposition"] == (
            f'attachment; filename="poster-{stem}-A4-fr.pdf"'
        )
        pdf = r.content
        assert scan_qr(to_png(pdf, tmp_path, 150)) == [url]
        text = text_of(pdf, tmp_path)
        assert "Commune Contern" in text  # the body's kind and name from the store
        assert reference in text and "verify.example.lu" in text
        assert compact.parse_verification_url(url).facts["reference"] == reference
        urls.append(url)
    assert urls[0] != urls[1]  # two permits, two posters, two URLs

    a3 = _poster(chain_client, first, keys.both, size="A3", lang="de")
    assert a3.status_code == 200
    assert a3.headers["content-disposition"].endswith('-A3-de.pdf"')
    pdf = a3.content
    assert page_info(pdf, tmp_path)[1:] == pytest.approx((841.89, 1190.55), abs=0.05)
    assert "Baugenehmigung" in text_of(pdf, tmp_path)
    assert scan_qr(to_png(pdf, tmp_path, 100)) == [urls[0]]

    digest_only = _poster(chain_client, bare_id, keys.read)
    assert digest_only.status_code == 409
    assert "anchors a bare digest, not a typed document" in digest_only.json()["detail"]
    assert _poster(chain_client, first, keys.other).status_code == 404

    # `anchor poster` through a real server: the same PDF, written where asked.
    server = Server(chain_client.app)
    try:
        out = tmp_path / "permit.pdf"
        runner = CliRunner()
        env = {"ANCHOR_API_KEY": keys.read}
        args = ["poster", first, "--output", str(out), "--api-url", server.url]
        done = runner.invoke(build_app(), [*args, "--size", "A3", "--lang", "de"], env=env)
        assert done.exit_code == 0, done.output
        assert done.output.strip() == f"wrote {out} (A3, de)"
        assert out.read_bytes() == pdf
        nowhere = tmp_path / "x.pdf"
        refused = runner.invoke(
            build_app(),
            ["poster", bare_id, "--output", str(nowhere), "--api-url", server.url],
            env=env,
        )
        assert refused.exit_code == EXIT_FAILURE
        assert "the API answered 409" in refused.output and "bare digest" in refused.output
        assert not nowhere.exists()
        bad = runner.invoke(build_app(), [*args, "--size", "A5"], env=env)
        assert bad.exit_code == EXIT_FAILURE and "--size must be A4 or A3" in bad.output
    finally:
        server.stop()
