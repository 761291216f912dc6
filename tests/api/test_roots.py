"""GET /v1/roots/{root}: every document of the root with a history, folded, from rootHistory.

Real anvil chain and registry 2.1.0; the status changes are sent by the revoker with web3.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from anchor.chain.devchain import Anvil
from anchor.chain.registry import Registry
from api.schemas_roots import RootAnswerOut
from tests.browser.permits import (
    anchor_permits,
    extend,
    lift,
    permit_facts,
    revoke,
    supersede,
    suspend,
)
from tests.support.api import MakeClient
from tests.support.bodies import Bodies, Body

pytestmark = pytest.mark.chain


@pytest.fixture
def client(make_client: MakeClient, anvil: Anvil, registry: Registry) -> TestClient:
    return make_client(
        rpc_urls=[anvil.url], registry_address=registry.address, registry_cache_ttl=0
    )


def _answer(client: TestClient, root: bytes, key: str) -> dict:  # type: ignore[type-arg]
    r = client.get(f"/v1/roots/0x{root.hex()}", params={"key": key})
    assert r.status_code == 200, r.text
    RootAnswerOut.model_validate(r.json())  # the answer reads back into its documented schema
    return r.json()  # type: ignore[no-any-return]


def test_documents_state_validity_successor_and_history(
    client: TestClient, bodies: Bodies, contern: Body
) -> None:
    body, key = contern.id, contern.anchoring
    a, b, c, d, untouched = anchor_permits(
        bodies, key, [permit_facts(f"2026/{n:04d}") for n in range(1, 6)]
    )
    (successor,) = anchor_permits(bodies, key, [permit_facts("2026/0100")])
    suspended_at = suspend(bodies, body, a, 1)
    lifted_at = lift(bodies, body, a)
    until = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    extended_at = extend(bodies, body, a, until)
    suspend(bodies, body, b, 2)
    revoked_at = revoke(bodies, body, c, 5)
    supersede(bodies, body, d, successor)

    answer = _answer(client, a.root, key.address)
    assert answer["rootStatus"] is None
    documents = {doc["leaf"]: doc for doc in answer["documents"]}
    assert set(documents) == {"0x" + p.leaf.hex() for p in (a, b, c, d)}  # not `untouched`
    assert "0x" + untouched.leaf.hex() not in str(answer)

    active = documents["0x" + a.leaf.hex()]
    assert (active["state"], active["since"], active["actor"]) == ("active", None, None)
    assert active["validUntil"] == until
    assert [(h["kind"], h["at"]) for h in active["history"]] == [
        ("suspended", suspended_at),
        ("lifted", lifted_at),
        ("extended", extended_at),
    ]
    assert active["history"][0]["reason"] == 1 and active["history"][2]["validUntil"] == until

    held = documents["0x" + b.leaf.hex()]
    assert (held["state"], held["reason"]) == ("suspended", 2)
    gone = documents["0x" + c.leaf.hex()]
    assert (gone["state"], gone["reason"], gone["since"]) == ("revoked", 5, revoked_at)
    assert gone["actor"] == bodies.revoker.address.lower()

    replaced = documents["0x" + d.leaf.hex()]
    assert replaced["state"] == "superseded"
    assert replaced["successor"] == {
        "root": "0x" + successor.root.hex(),
        "leaf": "0x" + successor.leaf.hex(),
        "anchoredAt": successor.bundle.anchored_at,
        "url": None,  # the route reads the chain only
    }
    (change,) = replaced["history"]
    assert change["successorRoot"] == "0x" + successor.root.hex()
    assert change["successorLeaf"] == "0x" + successor.leaf.hex()


def test_root_revoked_and_unknown_root(client: TestClient, bodies: Bodies, contern: Body) -> None:
    (permit,) = anchor_permits(bodies, contern.anchoring, [permit_facts("2026/0200")])
    bodies.revoke_root(contern.id, permit.root, 3)
    answer = _answer(client, permit.root, contern.anchoring.address)
    assert answer["rootStatus"]["kind"] == "revoked" and answer["rootStatus"]["reason"] == 3
    assert answer["documents"] == []  # the root's own change is not a document's
    unknown = client.get("/v1/roots/0x" + "ab" * 32, params={"key": contern.anchoring.address})
    assert unknown.status_code == 404 and "was never anchored" in unknown.json()["detail"]
