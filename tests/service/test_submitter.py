"""Submission and finality on a real anvil: happy path, restarts, faults and permanent failures.

One body (the env's first), relayed by default; tests/service/test_bodies.py has many bodies
and the direct mode.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from anchor.chain.devchain import Anvil
from anchor.chain.registry import BodyStatus
from anchor.merkle import verify_proof
from anchor.service.batcher import seal
from anchor.service.intake import submit
from anchor.store.batches import SealedBatch
from anchor.types import BatchState, OutboxState, ReceiptState
from tests.support.chain import send
from tests.support.service import Env, make_env

pytestmark = pytest.mark.chain


def run_until(env: Env, submitter: object, state: BatchState, steps: int = 12) -> None:
    """Step the submitter, mining a block after each step, until the first batch is in ``state``."""
    for _ in range(steps):
        submitter.step()  # type: ignore[attr-defined]
        batch = env.store.get_batch(1)
        assert batch is not None
        if batch.state == state:
            return
        env.mine()
    raise AssertionError(f"batch still {env.store.get_batch(1)} after {steps} steps")


def test_anchors_a_batch_after_the_configured_depth(env: Env) -> None:
    ids = env.take(5)
    submitter = env.submitter(confirmations=2)
    submitter.step()
    batch = env.store.get_batch(1)
    assert batch is not None and batch.state == BatchState.SUBMITTED
    assert env.store.get_receipt(ids[0]).state == ReceiptState.SUBMITTED  # type: ignore[union-attr]
    submitter.step()  # mined (auto-mining) but only 0 blocks deep
    assert env.store.get_batch(1).state == BatchState.SUBMITTED  # type: ignore[union-attr]
    env.mine(2)
    submitter.step()
    batch = env.store.get_batch(1)
    assert batch is not None and batch.state == BatchState.ANCHORED
    assert batch.block_hash == bytes(env.w3.eth.get_block(batch.block_number)["hash"])  # type: ignore[arg-type]
    body = env.bodies[0]
    assert body.body_id is not None and batch.issuer_id == body.issuer_id
    record = env.registry.anchor_of(body.body_id, batch.root)
    assert record.key == body.anchoring.address and record.leaf_count == 5
    tx = env.w3.eth.get_transaction(batch.tx_hash)  # type: ignore[arg-type]
    assert tx["from"] == env.relayer.address  # relayed: the relayer paid, the body signed
    for receipt_id in ids:
        receipt = env.store.get_receipt(receipt_id)
        assert receipt is not None and receipt.state == ReceiptState.ANCHORED
        assert receipt.leaf is not None
        assert verify_proof(batch.root, receipt.leaf, list(receipt.proof))
        status = env.registry.status(body.anchoring.address, batch.root, list(receipt.proof),
                                     receipt.leaf)  # fmt: skip
        assert status.included and status.authorised and status.body_id == body.body_id
    assert env.metrics.anchored_batches._value.get() == 1


def test_zero_confirmations_and_free_gas_as_on_besu_qbft(tmp_path: Path) -> None:
    # Besu QBFT with zeroBaseFee and --min-gas-price=0: immediate finality, gasPrice 0.
    with Anvil(extra_args=["--base-fee", "0", "--gas-price", "0"]) as node:
        env = make_env(tmp_path, node)
        env.take(3)
        submitter = env.submitter(confirmations=0, fee_mode="zero")
        submitter.step()
        submitter.step()
        batch = env.store.get_batch(1)
        assert batch is not None and batch.state == BatchState.ANCHORED
        tx = env.w3.eth.get_transaction(batch.tx_hash)  # type: ignore[arg-type]
        assert tx["gasPrice"] == 0


def test_restart_after_signing_rebroadcasts_the_same_bytes(env: Env) -> None:
    env.automine(False)
    env.take(4)
    submitter = env.submitter(confirmations=0)
    # Crash between persisting the signed transaction and broadcasting it.
    submitter._broadcast = lambda *args, **kwargs: None  # type: ignore[method-assign]
    submitter.step()
    (entry,) = env.store.outbox_of_batch(1)
    assert entry.state == OutboxState.SIGNED
    assert env.rpc("eth_getTransactionByHash", "0x" + entry.tx_hash.hex()) is None
    # A new process: the same raw bytes go out, no second transaction is signed.
    fresh = env.submitter(confirmations=0)
    fresh.step()
    assert env.rpc("eth_getTransactionByHash", "0x" + entry.tx_hash.hex()) is not None
    env.mine()
    fresh.step()
    assert [e.tx_hash for e in env.store.outbox_of_batch(1)] == [entry.tx_hash]
    assert env.store.get_batch(1).state == BatchState.ANCHORED  # type: ignore[union-attr]


def test_dropped_transaction_is_rebroadcast(env: Env) -> None:
    env.automine(False)
    env.take(2)
    submitter = env.submitter(confirmations=1)
    submitter.step()
    (entry,) = env.store.outbox_of_batch(1)
    env.rpc("anvil_dropTransaction", "0x" + entry.tx_hash.hex())
    assert env.rpc("eth_getTransactionByHash", "0x" + entry.tx_hash.hex()) is None
    submitter.step()  # not mined, nonce free: the same bytes again
    assert env.rpc("eth_getTransactionByHash", "0x" + entry.tx_hash.hex()) is not None
    env.mine(2)
    submitter.step()
    assert env.store.get_batch(1).state == BatchState.ANCHORED  # type: ignore[union-attr]


def test_stuck_transaction_is_replaced_with_higher_fees(env: Env) -> None:
    env.automine(False)
    env.take(2)
    submitter = env.submitter(confirmations=0, stuck_after=0.001)
    submitter.step()
    submitter.step()  # stuck: replaced
    first, second = env.store.outbox_of_batch(1)
    assert first.state == OutboxState.REPLACED and second.nonce == first.nonce
    assert second.max_fee_per_gas >= first.max_fee_per_gas * 1.1  # type: ignore[operator]
    assert second.max_priority_fee_per_gas >= first.max_priority_fee_per_gas * 1.1  # type: ignore[operator]
    env.mine()
    submitter.step()
    batch = env.store.get_batch(1)
    assert batch is not None and batch.state == BatchState.ANCHORED
    assert batch.tx_hash == second.tx_hash


def test_reorg_after_confirmation_sends_the_batch_back_and_it_is_anchored_again(env: Env) -> None:
    env.take(3)
    submitter = env.submitter(confirmations=1)
    run_until(env, submitter, BatchState.ANCHORED)
    anchored = env.store.get_batch(1)
    assert anchored is not None
    depth = env.w3.eth.block_number - anchored.block_number + 1  # type: ignore[operator]
    # Replace the blocks from the anchoring block on; the transaction is gone from the new chain.
    env.rpc("anvil_reorg", depth, [])
    body_id = env.bodies[0].body_id
    assert body_id is not None
    assert not env.registry.anchor_of(body_id, anchored.root).anchored
    submitter.step()
    assert env.store.get_batch(1).state in (BatchState.FROZEN, BatchState.SUBMITTED)  # type: ignore[union-attr]
    assert env.metrics.requeued_batches.labels(cause="reorg")._value.get() == 1
    run_until(env, submitter, BatchState.ANCHORED)
    again = env.store.get_batch(1)
    assert again is not None and again.block_hash != anchored.block_hash
    assert env.registry.anchor_of(body_id, again.root).anchored


def test_rollback_after_confirmation(env: Env) -> None:
    env.take(2)
    submitter = env.submitter(confirmations=1)
    run_until(env, submitter, BatchState.ANCHORED)
    anchored = env.store.get_batch(1)
    assert anchored is not None
    depth = env.w3.eth.block_number - anchored.block_number + 1  # type: ignore[operator]
    env.rpc("anvil_rollback", depth)
    submitter.step()
    run_until(env, submitter, BatchState.ANCHORED)
    assert env.registry.anchor_of(env.bodies[0].body_id or 0, anchored.root).anchored


def test_root_already_anchored_by_us_is_adopted_not_anchored_twice(env: Env) -> None:
    env.take(2)
    batch = env.store.get_batch(1)
    assert batch is not None
    # As after a crash right after broadcast: the root is on chain, the store never heard (here
    # sent directly by the body's own key; tests/service/test_bodies.py adopts a relayed one).
    anchor = env.registry.contract.functions.anchor(batch.root, batch.leaf_count)
    send(env.w3, env.bodies[0].anchoring, anchor)
    env.mine(2)
    submitter = env.submitter(confirmations=1)
    submitter.step()
    assert env.store.get_batch(1).state == BatchState.ANCHORED  # type: ignore[union-attr]
    assert env.store.outbox_of_batch(1) == []


@pytest.mark.parametrize("fault", ["paused", "key_not_valid"])
def test_operator_fixable_revert_holds_the_batch_until_it_ends(
    env: Env, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    ids = env.take(2)
    functions = env.registry.contract.functions
    body_id = env.bodies[0].body_id
    if fault == "paused":
        send(env.w3, env.admin, functions.pause())
        held = env.metrics.held.labels(cause=fault)
    else:  # the registrar suspends the body: its key may not anchor
        send(env.w3, env.admin, functions.setBodyStatus(body_id, int(BodyStatus.SUSPENDED)))
        held = env.metrics.body_held.labels(issuer=str(env.bodies[0].issuer_id), cause=fault)
    submitter = env.submitter(confirmations=1)
    with caplog.at_level(logging.WARNING, logger="anchor.service"):
        for _ in range(3):
            submitter.step()
            env.mine()
    batch = env.store.get_batch(1)
    assert batch is not None and batch.state == BatchState.FROZEN and batch.failure_reason == fault
    assert env.store.get_receipt(ids[0]).state == ReceiptState.BATCHED  # type: ignore[union-attr]
    assert env.store.outbox_of_batch(1) == []  # nothing broadcast, no nonce burnt
    assert held._value.get() == 1
    held_lines = [r for r in caplog.records if r.getMessage().startswith("submission held")]
    assert len(held_lines) == 1, [r.getMessage() for r in held_lines]
    # The operator fixes it: the same batch goes out and is anchored.
    if fault == "paused":
        send(env.w3, env.admin, functions.unpause())
    else:
        send(env.w3, env.admin, functions.setBodyStatus(body_id, int(BodyStatus.ACTIVE)))
    run_until(env, submitter, BatchState.ANCHORED)
    assert held._value.get() == 0
    for receipt_id in ids:
        assert env.store.get_receipt(receipt_id).state == ReceiptState.ANCHORED  # type: ignore[union-attr]


def send_mined(env: Env, account: LocalAccount, call: object) -> None:
    """Send a call with automine off, and mine it."""
    tx = call.build_transaction(  # type: ignore[attr-defined]
        {
            "from": account.address,
            "nonce": env.w3.eth.get_transaction_count(account.address),
            "maxFeePerGas": 10**11,
            "maxPriorityFeePerGas": 10**10,
        }
    )
    env.w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    env.mine()


def test_a_pause_while_in_flight_spends_the_nonce_and_holds_the_batch(env: Env) -> None:
    env.automine(False)
    env.take(2)
    submitter = env.submitter(confirmations=0)
    submitter.step()  # signed and broadcast, not mined
    (entry,) = env.store.outbox_of_batch(1)
    # The pause is mined with our anchor, which reverts (the pause pays a higher tip: first).
    send_mined(env, env.admin, env.registry.contract.functions.pause())
    assert env.w3.eth.get_transaction_receipt(entry.tx_hash)["status"] == 0  # type: ignore[arg-type]
    submitter.step()  # the revert is diagnosed: back to submission, then held
    batch = env.store.get_batch(1)
    assert batch is not None and batch.state == BatchState.FROZEN
    assert batch.failure_reason == "paused"
    assert [e.state for e in env.store.outbox_of_batch(1)] == [OutboxState.DROPPED]
    send_mined(env, env.admin, env.registry.contract.functions.unpause())
    submitter.step()
    env.mine()
    submitter.step()
    batch = env.store.get_batch(1)
    assert batch is not None and batch.state == BatchState.ANCHORED
    assert env.store.outbox_of_batch(1)[-1].nonce == entry.nonce + 1


def test_another_bodys_anchor_of_the_same_root_never_blocks_ours(env: Env) -> None:
    env.take(2)
    batch = env.store.get_batch(1)
    assert batch is not None
    # Another body anchors our root first (a copy taken from the mempool, say): it says nothing
    # about ours, which is anchored under our body all the same.
    other = env.add_body("Commune de Hesperange")
    send(env.w3, other.anchoring, env.registry.contract.functions.anchor(batch.root, 2))
    submitter = env.submitter(confirmations=0)
    run_until(env, submitter, BatchState.ANCHORED)
    ours = env.registry.anchor_of(env.bodies[0].body_id or 0, batch.root)
    assert ours.key == env.bodies[0].anchoring.address


def test_only_a_permanent_cause_fails_and_retry_sends_it_back(env: Env) -> None:
    ids = [r.id for r in submit(env.store, [os.urandom(32).hex()], env.integrator)]

    def zero_root(digests: object) -> SealedBatch:
        sealed = seal(digests)  # type: ignore[arg-type]
        return SealedBatch(bytes(32), sealed.leaf_count, sealed.leaves)

    env.store.close_due_batch(1, 3600, zero_root, issuer_id=env.bodies[0].issuer_id)
    submitter = env.submitter(confirmations=0)
    submitter.step()
    failed = env.store.get_batch(1)
    assert failed is not None and failed.state == BatchState.FAILED
    assert failed.failure_reason == "invalid_batch"
    assert env.store.get_receipt(ids[0]).state == ReceiptState.FAILED  # type: ignore[union-attr]
    (back,) = env.store.retry_failed_batches(1)
    assert back.state == BatchState.FROZEN
    assert env.store.get_receipt(ids[0]).state == ReceiptState.BATCHED  # type: ignore[union-attr]


def test_dead_primary_and_wrong_chain_secondary_fail_over_to_the_good_node(
    env: Env, tmp_path: Path
) -> None:
    env.take(2)
    with Anvil(chain_id=999) as other:
        dead = "http://127.0.0.1:9"  # discard port: nothing listens
        submitter = env.submitter(rpc_urls=[dead, other.url, env.node.url], confirmations=0)
        submitter.step()
        submitter.step()
    assert env.store.get_batch(1).state == BatchState.ANCHORED  # type: ignore[union-attr]


def test_no_usable_node_leaves_the_batch_waiting(env: Env) -> None:
    env.take(2)
    with Anvil(chain_id=999) as other:
        submitter = env.submitter(rpc_urls=["http://127.0.0.1:9", other.url])
        submitter.step()
    assert env.store.get_batch(1).state == BatchState.FROZEN  # type: ignore[union-attr]
    assert env.metrics.failures.labels(cause="rpc")._value.get() == 1
