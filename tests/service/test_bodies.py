"""Many bodies on a real anvil: relayed in one transaction, direct, onboarding, one bad body."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest
from eth_account import Account
from eth_typing import ChecksumAddress

from anchor.chain.eip712 import sign_anchor
from anchor.chain.signer import KeystoreSigner, SignedTx
from anchor.service import bodies as bodies_module
from anchor.service.batcher import close_batches
from anchor.service.intake import submit
from anchor.service.submitter import Submitter
from anchor.types import BatchState, ReceiptState
from tests.support.chain import send
from tests.support.service import Body, Env

pytestmark = pytest.mark.chain


def run(env: Env, submitter: Submitter, steps: int = 4) -> None:
    """Close due batches and step, mining a block after each step."""
    for _ in range(steps):
        close_batches(env.store, 100, 0.001, back_pressure=True)
        submitter.step()
        env.mine()


def batch_of(env: Env, body: Body) -> int:
    (batch,) = [b for b in env.store.list_batches() if b.issuer_id == body.issuer_id]
    return batch.id


def assert_anchored_under(env: Env, body: Body, batch_id: int) -> None:
    batch = env.store.get_batch(batch_id)
    assert batch is not None and batch.state == BatchState.ANCHORED, batch
    assert body.body_id is not None
    record = env.registry.anchor_of(body.body_id, batch.root)
    assert record.key == body.anchoring.address


def test_three_bodies_go_out_in_one_relayed_transaction(env: Env) -> None:
    others = [env.add_body("Syndicat SIGI"), env.add_body("Office social de Hesperange")]
    body_list = [env.bodies[0], *others]
    for body in body_list:
        env.take(2, body.integrator)
    submitter = env.submitter(confirmations=1)
    submitter.step()
    ids = [batch_of(env, b) for b in body_list]
    (entry,) = env.store.outbox_of_batch(ids[0])
    assert entry.batch_ids == tuple(sorted(ids)) and entry.signer == env.relayer.address
    run(env, submitter, 2)
    for body, batch_id in zip(body_list, ids, strict=True):
        assert_anchored_under(env, body, batch_id)
    hashes = {env.store.get_batch(i).tx_hash for i in ids}  # type: ignore[union-attr]
    assert len(hashes) == 1
    tx = env.w3.eth.get_transaction(hashes.pop())  # type: ignore[arg-type]
    assert tx["from"] == env.relayer.address
    assert env.metrics.submissions._value.get() == 1
    assert [e.state for e in env.store.outbox_of_batch(ids[2])] == ["mined"]


def test_direct_mode_each_body_sends_its_own_anchor(env: Env) -> None:
    other = env.add_body("Syndicat SIGI")
    env.take(2)
    env.take(3, other.integrator)
    submitter = env.submitter(confirmations=1, submit_mode="direct")
    run(env, submitter, 3)
    for body in (env.bodies[0], other):
        batch_id = batch_of(env, body)
        assert_anchored_under(env, body, batch_id)
        batch = env.store.get_batch(batch_id)
        tx = env.w3.eth.get_transaction(batch.tx_hash)  # type: ignore[arg-type, union-attr]
        assert tx["from"] == body.anchoring.address and tx["nonce"] == 0  # its own sequence
    assert env.w3.eth.get_transaction_count(env.relayer.address) == 0  # the relayer sent nothing


def test_a_body_not_onboarded_waits_pending_then_goes_out(
    env: Env, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bodies_module, "DISCOVER_EVERY", 0.0)
    late = env.add_body("Crèche Les Lutins", onboard=False)
    waiting = submit(env.store, ["ab" * 32, "cd" * 32], late.integrator)
    env.take(1)
    submitter = env.submitter(confirmations=1)
    with caplog.at_level(logging.WARNING, logger="anchor.service"):
        run(env, submitter, 4)
    lines = [r for r in caplog.records if "is not onboarded" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert late.anchoring.address in lines[0].getMessage()
    label = str(late.issuer_id)
    assert env.metrics.body_onboarded.labels(issuer=label)._value.get() == 0
    assert all(env.store.get_receipt(r.id).state == ReceiptState.PENDING for r in waiting)  # type: ignore[union-attr]
    assert env.store.get_batch(1).state == BatchState.ANCHORED  # type: ignore[union-attr]
    # The registrar onboards it: the worker finds its body id, and its digests go out.
    late.body_id = env.onboard(late, "Crèche Les Lutins")
    run(env, submitter, 4)
    issuer = env.store.get_issuer(late.issuer_id)
    assert issuer is not None and issuer.chain_body_id == late.body_id
    assert env.metrics.body_onboarded.labels(issuer=label)._value.get() == 1
    assert_anchored_under(env, late, batch_of(env, late))
    assert all(env.store.get_receipt(r.id).state == ReceiptState.ANCHORED for r in waiting)  # type: ignore[union-attr]


class ImpostorSigner:
    """Claims a body's address but signs with another key: the registry recovers a stranger."""

    def __init__(self, address: ChecksumAddress) -> None:
        self._address = address
        self._other = KeystoreSigner(Account.create())

    @property
    def address(self) -> ChecksumAddress:
        return self._address

    def sign_transaction(self, tx: Mapping[str, Any]) -> SignedTx:
        return self._other.sign_transaction(tx)

    def sign_typed_data(self, full_message: Mapping[str, Any]) -> bytes:
        return self._other.sign_typed_data(full_message)


def test_one_bodys_retired_key_or_bad_signature_never_blocks_the_others(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    retired, forged = env.add_body("Commune de Bous"), env.add_body("Commune de Dalheim")
    send(env.w3, env.admin, env.registry.contract.functions.retireKey(retired.anchoring.address))
    env.keyring.add(ImpostorSigner(forged.anchoring.address))
    for body in (env.bodies[0], retired, forged):
        env.take(2, body.integrator)
    submitter = env.submitter(confirmations=1)
    with caplog.at_level(logging.WARNING, logger="anchor.service"):
        run(env, submitter, 4)
    assert_anchored_under(env, env.bodies[0], batch_of(env, env.bodies[0]))
    for body, cause in ((retired, "key_not_valid"), (forged, "bad_signature")):
        batch = env.store.get_batch(batch_of(env, body))
        assert batch is not None and batch.state == BatchState.FROZEN
        assert batch.failure_reason == cause
        label = str(body.issuer_id)
        assert env.metrics.body_held.labels(issuer=label, cause=cause)._value.get() == 1
        assert env.metrics.body_failures.labels(issuer=label, cause=cause)._value.get() >= 1
        start = f"submission held for issuing body {label} "
        held = [r for r in caplog.records if r.getMessage().startswith(start)]
        assert len(held) == 1, [r.getMessage() for r in held]
    assert env.metrics.held.labels(cause="key_not_valid")._value.get() == 0  # not the relayer's
    # A later batch of the good body still goes out while the others wait.
    env.take(1)
    run(env, submitter, 3)
    good = [b for b in env.store.list_batches() if b.issuer_id == env.bodies[0].issuer_id]
    assert {b.state for b in good} == {BatchState.ANCHORED}


def test_a_relayed_anchor_made_before_a_crash_is_adopted(env: Env) -> None:
    env.take(2)
    batch = env.store.get_batch(1)
    assert batch is not None
    # The relayed call went out and was mined, but the store never recorded it (lost outbox).
    now = int(env.w3.eth.get_block("latest")["timestamp"]) + 3600
    item = sign_anchor(
        KeystoreSigner(env.bodies[0].anchoring), 31337, env.registry.address, batch.root,
        batch.leaf_count, env.relayer.address, now,
    )  # fmt: skip
    send(env.w3, env.relayer,
         env.registry.contract.functions.anchorSigned(now, [item.as_tuple()]))  # fmt: skip
    env.mine(2)
    submitter = env.submitter(confirmations=1)
    submitter.step()
    adopted = env.store.get_batch(1)
    assert adopted is not None and adopted.state == BatchState.ANCHORED
    assert env.store.outbox_of_batch(1) == []


def test_two_bodies_two_integrators_each_proof_names_its_own_bodys_key(env: Env) -> None:
    other = env.add_body("Syndicat SIGI")
    mine = submit(env.store, ["11" * 32, "22" * 32], env.integrator)
    theirs = submit(env.store, ["11" * 32, "33" * 32], other.integrator)  # one digest in both
    submitter = env.submitter(confirmations=1)
    run(env, submitter, 4)
    for body, receipts, stranger in ((env.bodies[0], mine, other), (other, theirs, env.bodies[0])):
        for r in receipts:
            receipt = env.store.get_receipt(r.id)
            assert receipt is not None and receipt.state == ReceiptState.ANCHORED
            assert receipt.issuer_id == body.issuer_id and receipt.leaf is not None
            batch = env.store.get_batch(receipt.batch_id)  # type: ignore[arg-type]
            assert batch is not None and batch.issuer_id == body.issuer_id
            proof = list(receipt.proof)
            status = env.registry.status(body.anchoring.address, batch.root, proof, receipt.leaf)
            assert status.included and status.authorised and status.body_id == body.body_id
            assert status.key == body.anchoring.address
            # Under the other body's key the same proof proves nothing.
            foreign = env.registry.status(
                stranger.anchoring.address, batch.root, proof, receipt.leaf
            )
            assert not foreign.included


def test_metrics_per_body_and_the_relayers_balance(env: Env) -> None:
    from anchor.service.worker import Worker
    from anchor.settings import load_settings

    late = env.add_body("Crèche Les Lutins", onboard=False)
    submit(env.store, ["ab" * 32, "cd" * 32, "ef" * 32], late.integrator)
    env.take(2)
    worker = Worker(load_settings(max_batch_age=3600), env.store, env.submitter(), env.metrics)
    worker.run_once()

    def sample(name: str, **labels: str) -> float | None:
        return env.metrics.registry.get_sample_value(name, labels)

    first, waiting = str(env.bodies[0].issuer_id), str(late.issuer_id)
    assert sample("anchor_body_pending_digests", issuer=waiting) == 3
    assert sample("anchor_body_pending_digests", issuer=first) == 0
    assert (sample("anchor_body_oldest_pending_age_seconds", issuer=waiting) or 0) > 0
    assert sample("anchor_body_batches", issuer=first, state="submitted") == 1
    assert sample("anchor_body_batches", issuer=waiting, state="frozen") == 0
    assert sample("anchor_body_onboarded", issuer=waiting) == 0
    balance = sample("anchor_relayer_balance_wei")
    assert balance == pytest.approx(env.w3.eth.get_balance(env.relayer.address)) and balance > 0


def test_a_held_bodys_backlog_never_crowds_the_others_out(env: Env) -> None:
    stuck = env.add_body("Commune de Bous")
    send(env.w3, env.admin, env.registry.contract.functions.retireKey(stuck.anchoring.address))
    for _ in range(4):  # older than the good body's batch, and more than a relayed call takes
        env.take(1, stuck.integrator)
    env.take(1)
    submitter = env.submitter(confirmations=1, relay_max_anchors=2)
    run(env, submitter, 4)
    states = {b.issuer_id: set() for b in env.store.list_batches()}  # type: ignore[var-annotated]
    for b in env.store.list_batches():
        states[b.issuer_id].add(b.state)
    assert states[env.bodies[0].issuer_id] == {BatchState.ANCHORED}
    assert states[stuck.issuer_id] == {BatchState.FROZEN}


def test_end_to_end_through_the_api_each_proof_names_its_own_bodys_key(env: Env) -> None:
    """Two bodies, two integrators, their documents relayed together: each proof the API hands
    out names its own body's anchoring key, and verifies against the registry."""
    from fastapi.testclient import TestClient

    from anchor.settings import load_settings
    from api.app import create_app

    other = env.add_body("Syndicat SIGI")
    settings = load_settings(
        rpc_urls=[env.node.url], registry_address=env.registry.address,
        data_dir=env.keyring.data_dir, registry_cache_ttl=0,
    )  # fmt: skip
    keys = {b.issuer_id: env.store.create_api_key(b.integrator, ["submit", "read"])[1]
            for b in env.bodies}  # fmt: skip
    submitter = env.submitter(confirmations=1)
    with TestClient(create_app(settings, env.store)) as client:
        sent = {}
        for body in env.bodies:
            auth = {"Authorization": f"Bearer {keys[body.issuer_id]}"}
            answer = client.post("/v1/receipts", json={"digests": ["ab" * 32]}, headers=auth)
            assert answer.status_code == 202, answer.text
            sent[body.issuer_id] = (answer.json()["receipts"][0]["id"], auth)
        run(env, submitter, 4)
        hashes = set()
        for body in (env.bodies[0], other):
            receipt_id, auth = sent[body.issuer_id]
            read = client.get(f"/v1/receipts/{receipt_id}", headers=auth).json()
            assert read["status"] == "anchored" and read["issuerId"] == body.issuer_id
            proof = read["proof"]
            assert proof["issuer"].lower() == body.anchoring.address.lower()
            hashes.add(proof["txHash"])
            verdict = client.post("/v1/verify", json={"bundle": proof, "digest": "ab" * 32})
            assert verdict.status_code == 200 and verdict.json()["verdict"] == "valid", verdict.text
        assert len(hashes) == 1  # one relayed transaction carried both bodies' anchors


def test_a_relayed_transaction_signed_before_a_crash_goes_out_with_the_same_bytes(
    env: Env,
) -> None:
    other = env.add_body("Syndicat SIGI")
    env.automine(False)
    env.take(2)
    env.take(2, other.integrator)
    crashing = env.submitter(confirmations=0)
    # Crash between persisting the signed relayed transaction and broadcasting it.
    crashing._broadcast = lambda *args, **kwargs: None  # type: ignore[method-assign]
    crashing.step()
    (entry,) = env.store.outbox_of_batch(1)
    assert entry.batch_ids == (1, 2) and entry.state == "signed"
    assert env.rpc("eth_getTransactionByHash", "0x" + entry.tx_hash.hex()) is None
    fresh = env.submitter(confirmations=0)
    fresh.step()
    assert env.rpc("eth_getTransactionByHash", "0x" + entry.tx_hash.hex()) is not None
    env.mine()
    fresh.step()
    assert env.store.outbox_of_batch(2) == [env.store.outbox_of_batch(1)[0]]
    assert [e.tx_hash for e in env.store.outbox_of_batch(1)] == [entry.tx_hash]
    assert {env.store.get_batch(i).state for i in (1, 2)} == {BatchState.ANCHORED}  # type: ignore[union-attr]


def test_direct_mode_keeps_the_guarantees_reorg_and_stuck_replacement(env: Env) -> None:
    env.take(2)
    submitter = env.submitter(confirmations=1, submit_mode="direct", stuck_after=0.001)
    env.automine(False)
    submitter.step()  # signed by the body's key, broadcast, not mined
    submitter.step()  # stuck: replaced at the same nonce of the body's own sequence
    first, second = env.store.outbox_of_batch(1)
    assert first.state == "replaced" and second.nonce == first.nonce == 0
    assert second.signer == env.bodies[0].anchoring.address
    env.automine(True)
    env.mine()
    run(env, submitter, 3)
    anchored = env.store.get_batch(1)
    assert anchored is not None and anchored.state == BatchState.ANCHORED
    assert anchored.tx_hash == second.tx_hash
    depth = env.w3.eth.block_number - anchored.block_number + 1  # type: ignore[operator]
    env.rpc("anvil_reorg", depth, [])
    run(env, submitter, 5)
    again = env.store.get_batch(1)
    assert again is not None and again.state == BatchState.ANCHORED
    assert again.block_hash != anchored.block_hash
    assert_anchored_under(env, env.bodies[0], 1)


def test_discovery_asks_about_a_few_waiting_bodies_at_a_time_in_turn(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bodies_module, "DISCOVER_EVERY", 0.0)
    monkeypatch.setattr(bodies_module, "DISCOVER_AT_MOST", 1)
    waiting = [env.add_body(f"Crèche {n}", onboard=False, fund=False) for n in range(3)]
    waiting[2].body_id = env.onboard(waiting[2], "Crèche 2")
    submitter = env.submitter()
    calls: list[str] = []
    key_of = type(env.registry).key_of

    def counting(self: object, address: str) -> object:
        calls.append(address)
        return key_of(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(type(env.registry), "key_of", counting)
    submitter.step()
    submitter.step()
    assert len(calls) == 2 and env.store.get_issuer(waiting[2].issuer_id).chain_body_id is None  # type: ignore[union-attr]
    submitter.step()
    assert len(calls) == 3
    assert env.store.get_issuer(waiting[2].issuer_id).chain_body_id == waiting[2].body_id  # type: ignore[union-attr]
