"""A receipt's state while its batch is submitted or anchored: read from the batch, never
rewritten.

Neither submitting nor anchoring a batch updates its receipts' rows (one row write per receipt
on the send path, and again on the finality path); every read of a receipt says ``submitted``
or ``anchored`` while its batch is, and ``batched`` again when the batch goes back to frozen
(a drop, a reorg). What is stored stays ``batched`` unless the batch fails or the receipt is
erased.
"""

from __future__ import annotations

from sqlalchemy import text

from anchor.service.batcher import close_batches
from anchor.service.intake import submit
from anchor.store import Store
from anchor.store.records import receipt_state
from anchor.types import BatchState, FailureCause, ReceiptState
from tests.support.store import digest_hex

TX = b"\x05" * 32
HOUR = 3600.0


def _stored(store: Store, batch_id: int) -> dict[str, tuple[str, str]]:
    """The stored state and updated_at of the batch's receipts, as the database has them."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, state, updated_at FROM receipts WHERE batch_id = :b"), {"b": batch_id}
        )
        return {str(i): (str(s), str(u)) for i, s, u in rows}


def test_a_submitted_batch_s_receipts_read_as_submitted_everywhere_and_are_not_rewritten(
    store: Store, integrator_id: int
) -> None:
    digests = [digest_hex(i) for i in range(3)]
    taken = submit(store, digests, integrator_id, idempotency_key="k1")
    [batch_id] = close_batches(store, 3, HOUR)
    before = _stored(store, batch_id)
    store.mark_batches_submitted([batch_id], TX)
    assert _stored(store, batch_id) == before  # no row written
    assert {state for state, _ in before.values()} == {"batched"}
    first = taken[0].id
    assert store.get_receipt(first).state is ReceiptState.SUBMITTED  # type: ignore[union-attr]
    assert {r.state for r in store.batch_receipts(batch_id)} == {ReceiptState.SUBMITTED}
    read = store.receipt_read(first, integrator_id)  # the API's joined read
    assert read is not None and read.receipt.state is ReceiptState.SUBMITTED
    again = submit(store, digests, integrator_id, idempotency_key="k1")  # a replay
    assert [r.state for r in again] == [ReceiptState.SUBMITTED] * 3
    # Dropped: back to frozen, the receipts read as batched, still without a write.
    store.return_batch_to_submission(batch_id, FailureCause.DROPPED)
    assert _stored(store, batch_id) == before
    assert store.get_receipt(first).state is ReceiptState.BATCHED  # type: ignore[union-attr]
    # Submitted again and anchored: every read says anchored, still without a write.
    store.mark_batches_submitted([batch_id], TX)
    anchored = store.mark_batches_anchored([batch_id], TX, 9, b"\x06" * 32)[0]
    assert _stored(store, batch_id) == before
    assert store.get_receipt(first).state is ReceiptState.ANCHORED  # type: ignore[union-attr]
    assert {r.state for r in store.batch_receipts(batch_id)} == {ReceiptState.ANCHORED}
    read = store.receipt_read(first, integrator_id)
    assert read is not None and read.receipt.state is ReceiptState.ANCHORED
    again = submit(store, digests, integrator_id, idempotency_key="k1")
    assert [r.state for r in again] == [ReceiptState.ANCHORED] * 3
    leaf = store.get_receipt(first).leaf  # type: ignore[union-attr]
    assert leaf is not None
    found = store.receipt_by_leaf(anchored.root, leaf)  # the public root lookup's read
    assert found is not None and found[0].id == first
    assert found[0].state is ReceiptState.ANCHORED
    # A reorg takes the block away: back to frozen, the receipts read as batched, no write.
    store.return_batch_to_submission(batch_id, FailureCause.REORG)
    assert _stored(store, batch_id) == before
    assert store.get_receipt(first).state is ReceiptState.BATCHED  # type: ignore[union-attr]
    assert store.receipt_by_leaf(anchored.root, leaf) is None  # no longer anchored


def test_rows_an_earlier_version_moved_read_as_their_batch_stands(
    store: Store, integrator_id: int
) -> None:
    """Rows that an earlier version wrote ``submitted`` or ``anchored`` (it rewrote receipts at
    each mark; no migration changed them) read the same, and go back to ``batched`` with a
    reorg."""
    taken = submit(store, [digest_hex(i) for i in range(2)], integrator_id)
    [batch_id] = close_batches(store, 2, HOUR)
    store.mark_batches_submitted([batch_id], TX)
    anchored = store.mark_batches_anchored([batch_id], TX, 9, b"\x06" * 32)[0]
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE receipts SET state = 'anchored' WHERE batch_id = :b"), {"b": batch_id}
        )
    assert {r.state for r in store.batch_receipts(batch_id)} == {ReceiptState.ANCHORED}
    leaf = store.get_receipt(taken[0].id).leaf  # type: ignore[union-attr]
    assert leaf is not None and store.receipt_by_leaf(anchored.root, leaf) is not None
    store.return_batch_to_submission(batch_id, FailureCause.REORG)
    assert {state for state, _ in _stored(store, batch_id).values()} == {"batched"}
    assert {r.state for r in store.batch_receipts(batch_id)} == {ReceiptState.BATCHED}


def test_an_erased_or_failed_receipt_keeps_its_state_whatever_its_batch(
    store: Store, integrator_id: int
) -> None:
    taken = submit(store, [digest_hex(i) for i in range(2)], integrator_id)
    [batch_id] = close_batches(store, 2, HOUR)
    store.mark_batches_submitted([batch_id], TX)
    store.erase(taken[0].id)
    states = {r.id: r.state for r in store.batch_receipts(batch_id)}
    assert states == {taken[0].id: ReceiptState.ERASED, taken[1].id: ReceiptState.SUBMITTED}
    failed = store.mark_batch_failed(batch_id, FailureCause.REVERTED)
    assert failed.state is BatchState.FAILED
    states = {r.id: r.state for r in store.batch_receipts(batch_id)}
    assert states == {taken[0].id: ReceiptState.ERASED, taken[1].id: ReceiptState.FAILED}


def test_the_rule_for_each_stored_state() -> None:
    submitted, anchored = BatchState.SUBMITTED.value, BatchState.ANCHORED.value
    frozen, failed = BatchState.FROZEN.value, BatchState.FAILED.value
    for stored in ("batched", "submitted", "anchored"):  # the last two: older rows
        assert receipt_state(stored, frozen) is ReceiptState.BATCHED
        assert receipt_state(stored, submitted) is ReceiptState.SUBMITTED
        assert receipt_state(stored, anchored) is ReceiptState.ANCHORED
        assert receipt_state(stored, failed) is ReceiptState.FAILED
        assert receipt_state(stored, None) is ReceiptState(stored)  # no batch read
    for kept in ("pending", "failed", "erased"):
        for batch_state in (frozen, submitted, anchored, failed):
            assert receipt_state(kept, batch_state) is ReceiptState(kept)
