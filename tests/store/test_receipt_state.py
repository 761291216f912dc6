"""A receipt's state while its batch is submitted: read from the batch, never rewritten.

Submitting a batch does not update its receipts' rows (one row write per receipt on the send
path); every read of a receipt says ``submitted`` while its batch is, and ``batched`` again
when the batch goes back to frozen. What is stored stays ``batched`` until anchored or failed.
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
    # Submitted again and anchored: now the rows move, once.
    store.mark_batches_submitted([batch_id], TX)
    store.mark_batches_anchored([batch_id], TX, 9, b"\x06" * 32)
    assert {state for state, _ in _stored(store, batch_id).values()} == {"anchored"}
    assert {r.state for r in store.batch_receipts(batch_id)} == {ReceiptState.ANCHORED}


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
    submitted = BatchState.SUBMITTED.value
    assert receipt_state("batched", submitted) is ReceiptState.SUBMITTED
    assert receipt_state("submitted", submitted) is ReceiptState.SUBMITTED  # an older row
    assert receipt_state("submitted", BatchState.FROZEN.value) is ReceiptState.BATCHED
    assert receipt_state("batched", None) is ReceiptState.BATCHED
    for kept in ("pending", "anchored", "failed", "erased"):
        assert receipt_state(kept, submitted) is ReceiptState(kept)
