"""A document's life through the API, on a real anvil with the real stack: the app on the store,
receipts anchored by the real submitter, changes sent by the worker's `StatusSender` in process
(tests/api/test_status_durability.py kills real `anchor worker` processes).

Every change reaches ``done`` and the registry's ``documentState`` shows it; every refusal is
one sentence; an integrator of one body cannot touch another body's document, and a status key
of one body cannot change another body's document on chain; a dead RPC keeps it pending, and a
nonce spent elsewhere sends it again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.lifecycle import day_start
from anchor.chain.registry import REVOKER_ROLE, ChangeKind
from anchor.service.intake import submit
from anchor.settings import load_settings
from anchor.types import StatusChangeKind, StatusChangeState
from api.app import create_app
from tests.support.api import DEAD_RPC
from tests.support.chain import send
from tests.support.service import make_env
from tests.support.statuses import RefusingProxy, Stack, headers

pytestmark = [pytest.mark.chain, pytest.mark.timeout(600)]

FUTURE = (datetime.now(UTC) + timedelta(days=400)).date()


@pytest.fixture
def stack(tmp_path: Path, anvil: Anvil) -> Iterator[Stack]:
    env = make_env(tmp_path, anvil)
    env.add_body("Syndicat SIGI")
    made = Stack(env, tmp_path)
    yield made
    made.client.close()
    env.store.close()


def test_every_change_reaches_done_and_the_chain_shows_it(stack: Stack) -> None:
    a, b, c, d, e = stack.anchored(5)
    first = [
        (a, stack.accepted(a, {"change": "suspend", "reason": 1})),
        (b, stack.accepted(b, {"change": "supersede", "successor": c})),
        (d, stack.accepted(d, {"change": "extend", "validUntil": FUTURE.isoformat()})),
        (e, stack.accepted(e, {"change": "revoke", "reason": 5})),
    ]
    stack.refused(
        a, {"change": "lift"},
        f"a change of receipt {a!r} (suspend, id {first[0][1]!r}) is already pending: ask again "
        "once it is done or failed",
    )  # fmt: skip
    stack.drive(*first)
    for receipt, change in first:
        shown = stack.state_of(receipt, change)
        assert shown["state"] == "done" and shown["error"] is None, shown
        assert shown["txHash"].startswith("0x") and shown["blockNumber"] > 0

    suspended = stack.document(a)
    assert (suspended.state, suspended.reason) == (ChangeKind.SUSPENDED, 1)
    assert suspended.actor == stack.env.bodies[0].status.address  # the body's status key
    superseded, successor = stack.document(b), stack.store.get_receipt(c)
    assert superseded.state == ChangeKind.SUPERSEDED and successor is not None
    assert superseded.successor_leaf == successor.leaf
    assert stack.document(d).valid_until == day_start(FUTURE)
    assert (stack.document(e).state, stack.document(e).reason) == (ChangeKind.REVOKED, 5)

    # What makes no sense now, checked against the chain's state before anything is stored.
    stack.refused(a, {"change": "suspend", "reason": 2}, _suspended_already(stack, a))
    stack.refused(
        c, {"change": "lift"}, "the document is not suspended, so there is no suspension to lift"
    )
    for body in ({"change": "extend", "validUntil": FUTURE.isoformat()}, {"change": "lift"}):
        stack.refused(e, body, _final(stack, e, "revoked"))
    stack.refused(b, {"change": "revoke", "reason": 0}, _final(stack, b, "superseded"))
    stack.refused(
        d, {"change": "extend", "validUntil": FUTURE.isoformat()},
        f"the document is valid through {FUTURE.isoformat()} already; an extension must end "
        "after that day",
    )  # fmt: skip
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    stack.refused(
        d, {"change": "extend", "validUntil": yesterday},
        f"the day {yesterday} has passed; extend to today or later",
    )  # fmt: skip
    stack.refused(
        c, {"change": "supersede", "successor": c},
        "a document cannot supersede itself: name another receipt as successor",
    )  # fmt: skip
    [waiting] = submit(stack.store, [os.urandom(32).hex()], stack.env.integrator)
    stack.refused(
        c, {"change": "supersede", "successor": waiting.id},
        f"the successor {waiting.id!r} is pending, not anchored yet: a document's status changes "
        "once its root is on chain",
    )  # fmt: skip
    stack.refused(
        waiting.id, {"change": "suspend", "reason": 0},
        f"receipt {waiting.id!r} is pending, not anchored yet: a document's status changes once "
        "its root is on chain",
    )  # fmt: skip
    [theirs] = stack.anchored(1, stack.env.bodies[1].integrator)
    stack.refused(
        c, {"change": "supersede", "successor": theirs},
        f"the successor {theirs!r} is not a receipt of yours: a document is superseded by "
        "another document of the same body",
    )  # fmt: skip

    # Lift, then extend again later, then revoke the suspended one's successor chain: all done.
    second = [
        (a, stack.accepted(a, {"change": "lift"})),
        (d, stack.accepted(d, {"change": "extend", "validUntil": _later(FUTURE, 30)})),
        (c, stack.accepted(c, {"change": "suspend", "reason": 2})),
    ]
    stack.drive(*second)
    assert all(stack.state_of(r, x)["state"] == "done" for r, x in second)
    assert stack.document(a).state == ChangeKind.NONE and stack.document(a).changes == 2
    assert stack.document(d).valid_until == day_start(FUTURE + timedelta(days=30))
    third = [(c, stack.accepted(c, {"change": "revoke", "reason": 2}))]
    stack.drive(*third)
    assert stack.document(c).state == ChangeKind.REVOKED  # a suspended document may be revoked


def test_refusals_scopes_and_bodies(stack: Stack, tmp_path: Path) -> None:
    [mine] = stack.anchored(1)
    [theirs] = stack.anchored(1, stack.env.bodies[1].integrator)
    store = stack.store
    reader = store.create_api_key(stack.env.integrator, ["submit", "read"])[1]
    r = stack.post(mine, {"change": "lift"}, reader)
    assert r.status_code == 403 and r.json()["detail"] == "this API key lacks the 'status' scope"
    # An integrator of body A asks about body B's receipt: it does not exist for it.
    r = stack.post(theirs, {"change": "revoke", "reason": 3})
    assert r.status_code == 404 and r.json()["detail"] == f"no receipt {theirs!r}"
    bodies_b = store.create_api_key(stack.env.bodies[1].integrator, ["status"])[1]
    change = stack.accepted(mine, {"change": "suspend", "reason": 0})
    peek = stack.client.get(f"/v1/receipts/{mine}/status/{change}", headers=headers(bodies_b))
    assert peek.status_code == 404
    other_receipt = stack.client.get(
        f"/v1/receipts/{theirs}/status/{change}", headers=headers(stack.key)
    )
    assert other_receipt.status_code == 404

    malformed: list[tuple[dict[str, Any], list[Any]]] = [
        ({"change": "annul"}, ["body"]),
        ({"change": "suspend", "reason": 65536}, ["body", "suspend", "reason"]),
        ({"change": "revoke", "reason": -1}, ["body", "revoke", "reason"]),
        ({"change": "revoke", "reason": "3"}, ["body", "revoke", "reason"]),
        ({"change": "revoke", "reason": True}, ["body", "revoke", "reason"]),
        ({"change": "suspend"}, ["body", "suspend", "reason"]),
        ({"change": "extend", "validUntil": "2028-3-12"}, ["body", "extend", "validUntil"]),
        ({"change": "extend", "validUntil": "2028-02-30"}, ["body", "extend", "validUntil"]),
        ({"change": "extend", "validUntil": 1830000000}, ["body", "extend", "validUntil"]),
        ({"change": "lift", "reason": 1}, ["body", "lift", "reason"]),
        ({"change": "supersede", "successor": "../x"}, ["body", "supersede", "successor"]),
    ]
    for body, loc in malformed:
        r = stack.post(mine, body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"][0]["loc"] == loc, (body, r.json())

    # A chain that cannot be reached: 503, and nothing is stored.
    dead = create_app(
        load_settings(rpc_urls=[DEAD_RPC], chain_id=31337, data_dir=tmp_path,
                      registry_address=stack.env.registry.address),
        store,
    )  # fmt: skip
    [other] = stack.anchored(1)
    with TestClient(dead) as client:
        r = client.post(
            f"/v1/receipts/{other}/status", json={"change": "lift"}, headers=headers(stack.key)
        )
    assert (
        r.status_code == 503
        and r.json()["detail"] == "the chain cannot be reached now; retry later"
    )
    assert store.status_changes_of(other) == []


def test_a_status_key_cannot_change_another_bodys_document(stack: Stack) -> None:
    """The API never builds such a change; a row forged in the store (body A's key, body B's
    document) is refused by the registry, and the change ends failed with its reason."""
    [theirs] = stack.anchored(1, stack.env.bodies[1].integrator)
    body_a, body_b = stack.env.bodies
    forged = stack.store.request_status_change(
        theirs, body_a.issuer_id, StatusChangeKind.REVOKE, reason=3
    )
    stack.sender.step()
    failed = stack.store.get_status_change(forged.id)
    assert failed is not None and failed.state is StatusChangeState.FAILED
    assert failed.error == (
        f"the key {body_a.status.address} may not change the statuses of body {body_b.body_id}: "
        "it is not a status key of that body valid now (retired, compromised, or the body "
        "suspended)"
    )
    assert failed.raw_tx is None  # refused in the replay: nothing was signed or sent
    assert stack.document(theirs).changes == 0


def test_a_revert_is_final(stack: Stack) -> None:
    """Accepted against the chain's state, then the revoker revokes the document first: the
    sender's replay is refused and the change fails with the registry's reason."""
    [receipt] = stack.anchored(1)
    change = stack.accepted(receipt, {"change": "suspend", "reason": 2})
    env = stack.env
    revoker = Account.from_key(dev_key(3))
    send(
        env.w3, env.admin, env.registry.contract.functions.grantRole(REVOKER_ROLE, revoker.address)
    )
    found = stack.store.get_receipt(receipt)
    assert found is not None and found.batch_id is not None and found.leaf is not None
    batch = stack.store.get_batch(found.batch_id)
    assert batch is not None
    body = env.bodies[0].body_id
    revoke = env.registry.contract.functions.revokeDocument(
        body, batch.root, list(found.proof), found.leaf, 3
    )
    send(env.w3, revoker, revoke)
    stack.drive((receipt, change))
    shown = stack.state_of(receipt, change)
    assert shown["state"] == "failed" and shown["txHash"] is None
    assert shown["error"] == (
        "the document is revoked already; a revoked document cannot change any more"
    )


def test_a_dead_rpc_keeps_it_pending(stack: Stack) -> None:
    [receipt] = stack.anchored(1)
    change = stack.accepted(receipt, {"change": "extend", "validUntil": FUTURE.isoformat()})
    dead = stack.sender_on([DEAD_RPC])
    for _ in range(3):
        dead.step()
    assert stack.state_of(receipt, change)["state"] == "pending"
    stack.drive((receipt, change))
    assert stack.state_of(receipt, change)["state"] == "done"
    assert stack.document(receipt).valid_until == day_start(FUTURE)


def test_a_nonce_taken_by_another_transaction_sends_the_change_again(stack: Stack) -> None:
    """Signed and stored, never broadcast, and the body's key spent the nonce elsewhere (its
    holder sent something itself): the change is signed again at a new nonce, and done."""
    [receipt] = stack.anchored(1)
    change = stack.accepted(receipt, {"change": "suspend", "reason": 2})
    proxy = RefusingProxy(stack.env.node.url)
    try:
        stack.sender_on([proxy.url]).step()
    finally:
        proxy.close()
    signed = stack.store.get_status_change(change)
    assert (
        signed is not None and signed.state is StatusChangeState.SENT and signed.nonce is not None
    )
    key = stack.env.bodies[0].status
    elsewhere = {
        "to": key.address, "value": 0, "gas": 21_000, "nonce": signed.nonce, "chainId": 31337,
        "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9,
    }  # fmt: skip
    stack.env.w3.eth.send_raw_transaction(key.sign_transaction(elsewhere).raw_transaction)
    stack.env.mine()
    stack.sender.step()
    back = stack.store.get_status_change(change)
    assert back is not None and back.state is StatusChangeState.PENDING
    assert back.error == "its nonce went to another transaction; it is signed again"
    stack.drive((receipt, change))
    done = stack.store.get_status_change(change)
    assert done is not None and done.state is StatusChangeState.DONE
    assert done.nonce == signed.nonce + 1 and done.tx_hash != signed.tx_hash
    assert stack.document(receipt).state == ChangeKind.SUSPENDED


def _suspended_already(stack: Stack, receipt: str) -> str:
    since = datetime.fromtimestamp(stack.document(receipt).since, UTC)
    return (
        f"the document is suspended already (since {since.isoformat().replace('+00:00', 'Z')}); "
        "lift it first"
    )


def _final(stack: Stack, receipt: str, word: str) -> str:
    since = datetime.fromtimestamp(stack.document(receipt).since, UTC)
    return (
        f"the document is {word} since {since.isoformat().replace('+00:00', 'Z')}; a {word} "
        "document cannot change any more"
    )


def _later(day: date, days: int) -> str:
    return (day + timedelta(days=days)).isoformat()
