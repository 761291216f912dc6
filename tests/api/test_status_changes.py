"""A document's life through the API, on a real anvil with the real stack: the app on the store,
receipts anchored by the real submitter, changes sent by the worker's `StatusSender` (in process)
or by real `anchor worker` processes killed with SIGKILL.

Every change reaches ``done`` and the registry's ``documentState`` shows it; every refusal is
one sentence; an integrator of one body cannot touch another body's document, and a status key
of one body cannot change another body's document on chain; an acknowledged change survives a
worker killed before and after its broadcast, and is made once; a dead RPC keeps it pending.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from anchor.chain.client import ChainClient
from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.keystore import create_keystore
from anchor.chain.lifecycle import day_start
from anchor.chain.registry import REVOKER_ROLE, ChangeKind
from anchor.chain.signer import KeystoreSigner
from anchor.private_files import create_private
from anchor.service.intake import submit
from anchor.service.statuses import StatusSender
from anchor.settings import load_settings
from anchor.store import Store
from anchor.types import ReceiptState, StatusChangeKind, StatusChangeState
from api.app import create_app
from api.config import ApiSettings
from tests.support.api import DEAD_RPC
from tests.support.chain import send
from tests.support.service import Env, make_env

pytestmark = [pytest.mark.chain, pytest.mark.timeout(600)]

ANCHOR = str(Path(sys.executable).parent / "anchor")
PASSWORD = "status-test-password"
FUTURE = (datetime.now(UTC) + timedelta(days=400)).date()


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class Stack:
    """The test's chain, store, API client, keys and in-process status sender."""

    def __init__(self, env: Env, tmp_path: Path) -> None:
        self.env = env
        for body in env.bodies:
            env.keyring.add(KeystoreSigner(body.status))
        self.settings = load_settings(
            rpc_urls=[env.node.url], chain_id=31337, registry_address=env.registry.address,
            data_dir=tmp_path, registry_cache_ttl=0,
        )  # fmt: skip
        fast = ApiSettings(rate_per_second=1000, rate_burst=1000)  # the test polls a lot
        self.client = TestClient(create_app(self.settings, env.store, fast))
        store = env.store
        self.key = store.create_api_key(env.integrator, ["status", "submit", "read"])[1]
        self.submitter = env.submitter()
        self.sender = self.sender_on([env.node.url])

    @property
    def store(self) -> Store:
        return self.env.store

    def sender_on(self, urls: list[str]) -> StatusSender:
        return StatusSender(
            ChainClient(urls, 31337, timeout=3), self.env.registry.address, self.store,
            self.env.keyring, self.submitter.config,
        )  # fmt: skip

    def anchored(self, count: int, integrator: int | None = None) -> list[str]:
        """``count`` receipts of one batch, anchored by the real submitter at depth."""
        ids = self.env.take(count, integrator)
        for _ in range(40):
            self.submitter.step()
            self.env.mine()
            receipts = [self.store.get_receipt(i) for i in ids]
            if all(r is not None and r.state is ReceiptState.ANCHORED for r in receipts):
                return ids
        raise AssertionError("the receipts were never anchored")

    def post(self, receipt: str, body: dict[str, Any], key: str | None = None) -> Any:
        return self.client.post(
            f"/v1/receipts/{receipt}/status", json=body, headers=headers(key or self.key)
        )

    def accepted(self, receipt: str, body: dict[str, Any], key: str | None = None) -> str:
        r = self.post(receipt, body, key)
        assert r.status_code == 202, r.text
        answer = r.json()
        assert (answer["receipt"], answer["change"], answer["state"]) == (
            receipt, body["change"], "pending"
        )  # fmt: skip
        return str(answer["id"])

    def refused(self, receipt: str, body: dict[str, Any], detail: str, code: int = 409) -> None:
        r = self.post(receipt, body)
        assert r.status_code == code, r.text
        assert r.json()["detail"] == detail

    def state_of(self, receipt: str, change: str) -> dict[str, Any]:
        r = self.client.get(f"/v1/receipts/{receipt}/status/{change}", headers=headers(self.key))
        assert r.status_code == 200, r.text
        answer: dict[str, Any] = r.json()
        return answer

    def drive(self, *changes: tuple[str, str], sender: StatusSender | None = None) -> None:
        """Step the sender and mine until every (receipt, change) is done or failed."""
        for _ in range(60):
            states = {self.state_of(r, c)["state"] for r, c in changes}
            if states <= {"done", "failed"}:
                return
            (sender or self.sender).step()
            self.env.mine()
        raise AssertionError(f"changes still open: {[self.state_of(r, c) for r, c in changes]}")

    def document(self, receipt: str) -> Any:
        found = self.store.get_receipt(receipt)
        assert found is not None and found.batch_id is not None and found.leaf is not None
        batch = self.store.get_batch(found.batch_id)
        assert batch is not None
        body = next(b for b in self.env.bodies if b.issuer_id == found.issuer_id)
        return self.env.registry.document_state(body.body_id or 0, batch.root, found.leaf)


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


# -- real worker processes, SIGKILL ----------------------------------------------------------


class RefusingProxy:
    """Forwards JSON-RPC to the node but answers every eth_sendRawTransaction with an error:
    a worker behind it signs and stores its transactions and never gets one to the chain."""

    def __init__(self, upstream: str) -> None:
        proxy = self
        self.refused = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                request = json.loads(body)
                method = request.get("method") if isinstance(request, dict) else None
                if method == "eth_sendRawTransaction":
                    proxy.refused += 1
                    error = {"code": -32000, "message": "the test refuses it"}
                    answer = {"jsonrpc": "2.0", "id": request.get("id"), "error": error}
                    data = json.dumps(answer).encode()
                else:
                    forward = urllib.request.Request(
                        upstream, data=body, headers={"Content-Type": "application/json"}
                    )
                    with urllib.request.urlopen(forward, timeout=30) as reply:
                        data = reply.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_keystores(stack: Stack, tmp_path: Path) -> dict[str, str]:
    """Every body's anchoring and status keystores, and the environment of a worker."""
    for body in stack.env.bodies:
        for account in (body.anchoring, body.status):
            path = tmp_path / "keys" / f"{account.address}.json"
            if not path.exists():
                encrypted = Account.encrypt(account.key, PASSWORD, iterations=2**10)
                create_private(path, json.dumps(encrypted).encode())
    keystore = tmp_path / "relayer.json"
    create_keystore(keystore, PASSWORD, dev_key(1), iterations=2**10)
    return {
        **os.environ,
        "ANCHOR_CHAIN_ID": "31337",
        "ANCHOR_REGISTRY_ADDRESS": stack.env.registry.address,
        "ANCHOR_KEYSTORE_PATH": str(keystore),
        "ANCHOR_KEYSTORE_PASSWORD": PASSWORD,
        "ANCHOR_DATABASE_URL": str(stack.store.engine.url),
        "ANCHOR_DATA_DIR": str(tmp_path),
        "ANCHOR_CONFIRMATIONS": "1",
        "ANCHOR_POLL_INTERVAL": "0.1",
    }


def start_worker(env: dict[str, str], rpc: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [ANCHOR, "worker", "--plain-logs"], env={**env, "ANCHOR_RPC_URLS": rpc},
            stdout=out, stderr=out,
        )  # fmt: skip


def until(check: Any, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"never: {what}")


def kill(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)


def test_an_acknowledged_change_survives_sigkill_before_and_after_broadcast(
    stack: Stack, tmp_path: Path
) -> None:
    [before] = stack.anchored(1)
    body_b = stack.env.bodies[1]
    [after] = stack.anchored(1, body_b.integrator)  # another key: another nonce lane
    key_b = stack.store.create_api_key(body_b.integrator, ["status"])[1]
    env_vars = write_keystores(stack, tmp_path)
    log = tmp_path / "worker.log"
    store = stack.store
    change = stack.accepted(before, {"change": "suspend", "reason": 1})

    # 1. Killed before broadcast: the worker signs and stores; no node ever takes it.
    proxy = RefusingProxy(stack.env.node.url)
    worker = start_worker(env_vars, proxy.url, log)
    try:
        until(lambda: _state(store, change) is StatusChangeState.SENT, "signed and stored")
        until(lambda: proxy.refused >= 2, "a broadcast tried again")
    finally:
        kill(worker)
        proxy.close()
    stored = store.get_status_change(change)
    assert stored is not None and stored.raw_tx is not None and stored.tx_hash is not None
    assert stack.document(before).changes == 0  # nothing reached the chain

    # 2. Killed after broadcast: the transactions wait in the pool (no mining) when it dies: the
    #    first one sent again from its stored bytes, a second one (body B's key) new.
    stack.env.automine(False)
    second = stack.accepted(after, {"change": "revoke", "reason": 4}, key_b)
    worker = start_worker(env_vars, stack.env.node.url, log)
    try:
        until(lambda: _sent_at(store, second) is not None, "the second one broadcast")
    finally:
        kill(worker)
    first_tx, second_tx = stored.tx_hash, _tx(store, second)
    pool = stack.env.rpc("txpool_content")
    assert _in_pool(pool, first_tx) and _in_pool(pool, second_tx)  # the same stored bytes
    stack.env.automine(True)
    stack.env.mine(3)

    # 3. A new worker follows both to done, without sending either again.
    worker = start_worker(env_vars, stack.env.node.url, log)
    try:
        until(
            lambda: _state(store, change) is _state(store, second) is StatusChangeState.DONE,
            "both done",
        )
    finally:
        kill(worker)
    assert _tx(store, change) == first_tx and _tx(store, second) == second_tx
    assert stack.document(before).state == ChangeKind.SUSPENDED
    assert stack.document(after).state == ChangeKind.REVOKED
    for receipt in (before, after):
        found = store.get_receipt(receipt)
        assert found is not None and found.batch_id is not None and found.leaf is not None
        batch = store.get_batch(found.batch_id)
        assert batch is not None
        body = next(b for b in stack.env.bodies if b.issuer_id == found.issuer_id)
        history = stack.env.registry.history_of(body.body_id or 0, batch.root, found.leaf)
        assert len(history) == 1  # made once, not twice


def _state(store: Store, change: str) -> StatusChangeState | None:
    found = store.get_status_change(change)
    return None if found is None else found.state


def _sent_at(store: Store, change: str) -> datetime | None:
    found = store.get_status_change(change)
    return None if found is None else found.sent_at


def _tx(store: Store, change: str) -> bytes | None:
    found = store.get_status_change(change)
    return None if found is None else found.tx_hash


def _in_pool(pool: object, tx_hash: bytes | None) -> bool:
    assert tx_hash is not None
    return ("0x" + tx_hash.hex()) in json.dumps(pool).lower()


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
