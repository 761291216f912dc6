"""`Store.mark_batches_anchored`, set-wise: every batch, its receipts (an erased one stays
erased) and the outbox row of the transaction are where the per-batch form left them; a row that
still carries a batch not anchored stays in flight; a batch named twice, or one not frozen or
submitted, writes nothing."""

from __future__ import annotations

import pytest

from anchor.store import InvalidTransitionError, StoreError
from anchor.types import BatchState, FailureCause, OutboxState, ReceiptState
from tests.support.service import Env

TX = b"\x07" * 32
BLOCK = b"\x09" * 32


def relayed(env: Env, batches: int) -> tuple[list[int], list[list[str]]]:
    """``batches`` frozen batches of two receipts, recorded submitted in ONE transaction."""
    receipts = [env.take(2) for _ in range(batches)]
    ids = [b.id for b in env.store.batches_in_state(BatchState.FROZEN)]
    env.store.record_signed_submission(ids, 0, "0x" + "11" * 20, b"raw", TX)
    return ids, receipts


def test_every_batch_its_receipts_and_the_transaction_are_anchored_at_once(env: Env) -> None:
    ids, receipts = relayed(env, 4)
    env.store.erase(receipts[1][0])
    marked = env.store.mark_batches_anchored(list(reversed(ids)), TX, 12, BLOCK)
    assert [b.id for b in marked] == list(reversed(ids))  # in the order asked
    for batch_id in ids:
        batch = env.store.get_batch(batch_id)
        assert batch is not None and batch.state == BatchState.ANCHORED
        assert (batch.tx_hash, batch.block_number, batch.block_hash) == (TX, 12, BLOCK)
        assert batch.submitted_at is not None and batch.failure_reason is None
    assert len({b.anchored_at for b in marked}) == 1
    states = [env.store.get_receipt(r).state for rs in receipts for r in rs]  # type: ignore[union-attr]
    anchored = ReceiptState.ANCHORED
    assert states == [anchored, anchored, ReceiptState.ERASED] + [anchored] * 5
    (entry,) = env.store.outbox_of_batch(ids[0])
    assert entry.state == OutboxState.MINED


def test_the_transaction_stays_in_flight_while_it_carries_a_batch_not_anchored(env: Env) -> None:
    ids, receipts = relayed(env, 3)
    env.store.mark_batches_anchored(ids[:2], TX, 12, BLOCK)
    (entry,) = env.store.outbox_of_batch(ids[0])
    assert entry.state == OutboxState.SIGNED
    assert env.store.get_batch(ids[2]).state == BatchState.SUBMITTED  # type: ignore[union-attr]
    assert {env.store.get_receipt(r).state for r in receipts[2]} == {ReceiptState.SUBMITTED}  # type: ignore[union-attr]
    env.store.mark_batches_anchored(ids[2:], TX, 12, BLOCK)  # the last one: now it is mined
    assert env.store.outbox_of_batch(ids[0])[0].state == OutboxState.MINED


@pytest.mark.parametrize("how", ["twice", "failed"])
def test_a_wrong_list_writes_nothing(env: Env, how: str) -> None:
    ids, receipts = relayed(env, 3)
    if how == "twice":
        wrong, error = [ids[0], ids[1], ids[0]], StoreError
    else:
        env.store.mark_batch_failed(ids[2], FailureCause.INVALID_BATCH)
        wrong, error = ids, InvalidTransitionError
    with pytest.raises(error):
        env.store.mark_batches_anchored(wrong, TX, 12, BLOCK)
    for batch_id in ids[:2]:
        batch = env.store.get_batch(batch_id)
        assert batch is not None and batch.state == BatchState.SUBMITTED
        assert batch.anchored_at is None
    assert {env.store.get_receipt(r).state for r in receipts[0]} == {ReceiptState.SUBMITTED}  # type: ignore[union-attr]
    assert env.store.outbox_of_batch(ids[0])[0].state == OutboxState.SIGNED
