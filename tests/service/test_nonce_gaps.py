"""Issue 13: a nonce gap under the transactions in flight never stalls the submitter.

The deadlock: batch A anchored at nonce n, batch B in flight at nonce n+1; a reorg (or a
rollback, or a node restored from an older snapshot) takes A's transaction away, so the chain's
count is n again. B can never be mined before nonce n is used; the old submitter replaced B in a
loop while A waited behind it. Each test reproduces it deterministically with anvil's automine
off, then checks that the gap is filled with A first, B is not replaced while it cannot be mined,
the gap is reported once, and every receipt ends anchored on a canonical transaction with a
proof the registry accepts.
"""

from __future__ import annotations

import logging

import pytest

from anchor.service.submitter import Submitter
from anchor.types import BatchState, OutboxState, ReceiptState
from tests.support.chain import send
from tests.support.service import Env

pytestmark = pytest.mark.chain


def step_and_mine(env: Env, submitter: Submitter, rounds: int) -> None:
    """One submitter step then one block, ``rounds`` times."""
    for _ in range(rounds):
        submitter.step()
        env.mine()


def anchor_first_batch(env: Env, submitter: Submitter) -> None:
    """Take batch 1 through to anchored (confirmations 1)."""
    for _ in range(6):
        submitter.step()
        if env.store.get_batch(1).state == BatchState.ANCHORED:  # type: ignore[union-attr]
            return
        env.mine()
    raise AssertionError(f"batch 1 not anchored: {env.store.get_batch(1)}")


def assert_all_anchored_on_canonical_chain(env: Env, receipt_ids: list[str]) -> None:
    """Every receipt anchored; its batch's transaction canonical; its proof valid on chain."""
    for receipt_id in receipt_ids:
        receipt = env.store.get_receipt(receipt_id)
        assert receipt is not None and receipt.state == ReceiptState.ANCHORED, receipt
        assert receipt.batch_id is not None and receipt.leaf is not None
        batch = env.store.get_batch(receipt.batch_id)
        assert batch is not None and batch.tx_hash is not None
        mined = env.w3.eth.get_transaction_receipt(batch.tx_hash)  # type: ignore[arg-type]
        assert mined["status"] == 1 and mined["blockNumber"] == batch.block_number
        assert env.w3.eth.get_block(batch.block_number)["hash"] == mined["blockHash"]  # type: ignore[arg-type]
        key = env.bodies[0].anchoring.address
        status = env.registry.status(key, batch.root, list(receipt.proof), receipt.leaf)
        assert status.included and status.authorised


@pytest.mark.parametrize("fault", ["reorg", "rollback", "snapshot"])
def test_gap_below_a_transaction_in_flight_is_filled_first(
    env: Env, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    env.automine(False)
    snapshot = env.rpc("evm_snapshot")
    first = env.take(3)
    # stuck_after ~0: the old submitter replaced the transaction at n+1 at every step.
    submitter = env.submitter(confirmations=1, stuck_after=0.001)
    anchor_first_batch(env, submitter)
    a = env.store.get_batch(1)
    assert a is not None and a.block_number is not None
    second = env.take(3)
    submitter.step()  # batch 2 signed at the next nonce, broadcast, not mined yet
    (b_entry,) = env.store.outbox_of_batch(2)
    (a_entry,) = env.store.outbox_of_batch(1)
    assert b_entry.nonce == a_entry.nonce + 1
    depth = env.w3.eth.block_number - a.block_number + 1
    if fault == "reorg":
        env.rpc("anvil_reorg", depth, [])
    elif fault == "rollback":
        env.rpc("anvil_rollback", depth)
    else:  # a node restored from an older snapshot: behind the outbox
        assert env.rpc("evm_revert", snapshot) is True
    assert env.w3.eth.get_transaction_count(env.relayer.address) == a_entry.nonce
    with caplog.at_level(logging.INFO, logger="anchor.service"):
        submitter.step()
        # The gap is filled with A at nonce n, ahead of B; B, which cannot be mined before
        # n is used, is not replaced (the old submitter replaced it here, at every step).
        assert [e.tx_hash for e in env.store.outbox_of_batch(2)] == [b_entry.tx_hash]
        refill = env.store.outbox_of_batch(1)[-1]
        assert refill.nonce == a_entry.nonce and refill.state == OutboxState.BROADCAST
        assert env.metrics.nonce_gaps._value.get() == 1
        step_and_mine(env, submitter, 8)
    assert_all_anchored_on_canonical_chain(env, first + second)
    mined = [e for e in env.store.outbox_of_batch(1) if e.state == OutboxState.MINED]
    assert [e.nonce for e in mined] == [a_entry.nonce]
    assert {e.nonce for e in env.store.outbox_of_batch(2)} == {b_entry.nonce}
    assert env.metrics.nonce_gaps._value.get() == 1
    assert env.metrics.nonce_gap._value.get() == 0
    gap_lines = [r for r in caplog.records if r.getMessage().startswith("nonce gap:")]
    assert len(gap_lines) == 1, [r.getMessage() for r in caplog.records]


def test_reorg_deeper_than_the_depth_of_two_anchored_batches(env: Env) -> None:
    env.automine(False)
    first = env.take(2)
    submitter = env.submitter(confirmations=1)
    anchor_first_batch(env, submitter)
    second = env.take(2)
    step_and_mine(env, submitter, 4)
    b = env.store.get_batch(2)
    a = env.store.get_batch(1)
    assert a is not None and b is not None and b.state == BatchState.ANCHORED
    third = env.take(2)
    submitter.step()  # batch 3 in flight
    depth = env.w3.eth.block_number - a.block_number + 1  # type: ignore[operator]
    env.rpc("anvil_reorg", depth, [])
    step_and_mine(env, submitter, 12)
    assert_all_anchored_on_canonical_chain(env, first + second + third)
    assert env.metrics.requeued_batches.labels(cause="reorg")._value.get() == 2


def test_gap_with_no_batch_waiting_re_signs_the_one_above(env: Env) -> None:
    # A transaction of the same key that the outbox never knew (an operator's) held nonce n;
    # it is rolled back under batch 1 at n+1: batch 1 itself moves down to nonce n.
    env.automine(False)
    tx = {
        "to": env.relayer.address,
        "value": 0,
        "gas": 21_000,
        "nonce": env.w3.eth.get_transaction_count(env.relayer.address),
        "chainId": 31337,
        "maxFeePerGas": 10**11,
        "maxPriorityFeePerGas": 10**9,
    }
    env.w3.eth.send_raw_transaction(env.relayer.sign_transaction(tx).raw_transaction)
    env.mine()
    ids = env.take(2)
    submitter = env.submitter(confirmations=1)
    submitter.step()
    (entry,) = env.store.outbox_of_batch(1)
    assert entry.nonce == tx["nonce"] + 1
    env.rpc("anvil_rollback", 1)
    step_and_mine(env, submitter, 6)
    assert_all_anchored_on_canonical_chain(env, ids)
    rows = env.store.outbox_of_batch(1)
    assert [(e.nonce, e.state) for e in rows] == [
        (entry.nonce, OutboxState.REPLACED),
        (tx["nonce"], OutboxState.MINED),
    ]


def test_stall_is_reported_once_and_cleared(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    ids = env.take(2)
    send(env.w3, env.admin, env.registry.contract.functions.pause())
    submitter = env.submitter(confirmations=1, stall_blocks=5)
    with caplog.at_level(logging.INFO, logger="anchor.service"):
        step_and_mine(env, submitter, 8)
        assert env.metrics.stalled._value.get() == 1
        assert env.metrics.blocks_without_progress._value.get() >= 5
        send(env.w3, env.admin, env.registry.contract.functions.unpause())
        step_and_mine(env, submitter, 4)
    assert env.metrics.stalled._value.get() == 0
    stalls = [r.getMessage() for r in caplog.records if r.getMessage().startswith("stalled:")]
    assert len(stalls) == 1 and "paused" in stalls[0], stalls
    assert any(r.getMessage().startswith("progress resumed") for r in caplog.records)
    assert_all_anchored_on_canonical_chain(env, ids)
