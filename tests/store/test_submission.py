"""Batch and outbox state transitions, as the submitter drives them."""

from __future__ import annotations

import pytest

from anchor.service.batcher import close_batches
from anchor.service.intake import submit
from anchor.store import InvalidTransitionError, NotFoundError, Store, StoreError
from anchor.types import BatchState, FailureCause, OutboxState, ReceiptState
from tests.support.store import digest_hex

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TX1, TX2, TX3 = b"\x11" * 32, b"\x22" * 32, b"\x33" * 32
BLOCK = b"\xbb" * 32


def _frozen_batches(store: Store, integrator_id: int, n: int, size: int = 3) -> list[int]:
    submit(store, [digest_hex(i) for i in range(n * size)], integrator_id)
    return close_batches(store, size, 3600)


def _receipt_states(store: Store, batch_id: int) -> set[ReceiptState]:
    return {r.state for r in store.batch_receipts(batch_id)}


def test_happy_path(store: Store, integrator_id: int) -> None:
    first, second = _frozen_batches(store, integrator_id, 2)
    frozen = store.get_batch(first)
    assert frozen is not None
    before = store.batch_receipts(first)
    nb = store.next_batch_for_submission()
    assert nb is not None and nb.id == first

    entry = store.record_signed_tx(
        first, 7, SIGNER, b"\x02raw", TX1, max_fee_per_gas=10**10, max_priority_fee_per_gas=10**9
    )
    assert entry.state is OutboxState.SIGNED and entry.raw_tx == b"\x02raw"
    assert entry.max_fee_per_gas == 10**10 and entry.gas_price is None
    assert [e.id for e in store.live_outbox(SIGNER)] == [entry.id]

    broadcast = store.mark_broadcast(entry.id)
    assert broadcast.state is OutboxState.BROADCAST and broadcast.broadcast_at is not None
    assert store.mark_broadcast(entry.id).broadcast_at == broadcast.broadcast_at  # rebroadcast

    submitted = store.mark_batch_submitted(first, TX1)
    assert submitted.state is BatchState.SUBMITTED and submitted.tx_hash == TX1
    assert _receipt_states(store, first) == {ReceiptState.SUBMITTED}
    nb = store.next_batch_for_submission()
    assert nb is not None and nb.id == second
    assert [b.id for b in store.batches_in_state(BatchState.SUBMITTED)] == [first]

    anchored = store.mark_batch_anchored(first, TX1, 42, BLOCK)
    assert anchored.state is BatchState.ANCHORED and anchored.block_number == 42
    assert anchored.root == frozen.root and anchored.leaf_count == frozen.leaf_count
    assert _receipt_states(store, first) == {ReceiptState.ANCHORED}
    assert store.live_outbox(SIGNER) == []
    assert [e.state for e in store.outbox_of_batch(first)] == [OutboxState.MINED]
    assert [b.id for b in store.anchored_batches_since(42)] == [first]
    assert store.anchored_batches_since(43) == []
    after = store.batch_receipts(first)
    assert [(r.salt, r.leaf, r.proof) for r in after] == [(r.salt, r.leaf, r.proof) for r in before]


def test_reorg_returns_batch_with_the_same_root(store: Store, integrator_id: int) -> None:
    [batch_id] = _frozen_batches(store, integrator_id, 1)
    root = store.get_batch(batch_id).root  # type: ignore[union-attr]
    entry = store.record_signed_tx(batch_id, 0, SIGNER, b"raw", TX1, gas_price=0)
    store.mark_broadcast(entry.id)
    store.mark_batch_submitted(batch_id, TX1)
    store.mark_batch_anchored(batch_id, TX1, 5, BLOCK)

    back = store.return_batch_to_submission(batch_id, "block 5 reorganised away")
    assert back.state is BatchState.FROZEN and back.root == root
    assert back.tx_hash is None and back.block_number is None and back.block_hash is None
    assert back.failure_reason == "block 5 reorganised away"
    assert _receipt_states(store, batch_id) == {ReceiptState.BATCHED}
    assert [e.state for e in store.outbox_of_batch(batch_id)] == [OutboxState.DROPPED]
    assert store.anchored_batches_since(0) == []
    nb = store.next_batch_for_submission()
    assert nb is not None and nb.id == batch_id
    # The nonce is free again once the row is dropped.
    again = store.record_signed_tx(batch_id, 0, SIGNER, b"raw2", TX2, gas_price=0)
    assert again.state is OutboxState.SIGNED


def test_fee_bump_replaces_the_row_with_the_same_nonce(store: Store, integrator_id: int) -> None:
    [batch_id] = _frozen_batches(store, integrator_id, 1)
    old = store.record_signed_tx(batch_id, 3, SIGNER, b"raw", TX1, max_fee_per_gas=1)
    store.mark_broadcast(old.id)
    with pytest.raises(StoreError, match="nonce 3"):
        store.record_signed_tx(batch_id, 3, SIGNER, b"raw2", TX2, max_fee_per_gas=2)
    new = store.record_signed_tx(
        batch_id, 3, SIGNER, b"raw2", TX2, max_fee_per_gas=2, replaces=old.id
    )
    states = {e.id: e.state for e in store.outbox_of_batch(batch_id)}
    assert states == {old.id: OutboxState.REPLACED, new.id: OutboxState.SIGNED}
    assert [e.id for e in store.live_outbox(SIGNER)] == [new.id]
    with pytest.raises(InvalidTransitionError):
        store.mark_broadcast(old.id)
    # Another signer may use the same nonce.
    store.record_signed_tx(batch_id, 3, "0x" + "ab" * 20, b"raw3", TX3)


def test_dropped_submission_goes_back_as_replaced(store: Store, integrator_id: int) -> None:
    [batch_id] = _frozen_batches(store, integrator_id, 1)
    entry = store.record_signed_tx(batch_id, 0, SIGNER, b"raw", TX1)
    store.mark_broadcast(entry.id)
    store.mark_batch_submitted(batch_id, TX1)
    store.return_batch_to_submission(batch_id, "dropped", outbox_state=OutboxState.REPLACED)
    assert [e.state for e in store.outbox_of_batch(batch_id)] == [OutboxState.REPLACED]
    with pytest.raises(StoreError, match="dropped or replaced"):
        store.return_batch_to_submission(batch_id, "x", outbox_state=OutboxState.MINED)


def test_failed_batch_is_final(store: Store, integrator_id: int) -> None:
    [batch_id] = _frozen_batches(store, integrator_id, 1)
    failed = store.mark_batch_failed(batch_id, "AccessControlUnauthorizedAccount")
    assert failed.state is BatchState.FAILED
    assert failed.failure_reason == "AccessControlUnauthorizedAccount"
    assert _receipt_states(store, batch_id) == {ReceiptState.FAILED}
    assert store.next_batch_for_submission() is None
    with pytest.raises(InvalidTransitionError, match="failed; it cannot become anchored"):
        store.mark_batch_anchored(batch_id, TX1, 1, BLOCK)
    with pytest.raises(InvalidTransitionError):
        store.mark_batch_submitted(batch_id, TX1)
    with pytest.raises(InvalidTransitionError):
        store.record_signed_tx(batch_id, 0, SIGNER, b"raw", TX1)


def test_invalid_transitions_and_unknown_ids(store: Store, integrator_id: int) -> None:
    [batch_id] = _frozen_batches(store, integrator_id, 1)
    with pytest.raises(InvalidTransitionError, match="frozen; it cannot become frozen"):
        store.return_batch_to_submission(batch_id, "nothing to return")
    store.mark_batch_anchored(batch_id, TX1, 9, BLOCK)  # mined before the submitted mark
    with pytest.raises(InvalidTransitionError):
        store.mark_batch_failed(batch_id, "too late")
    with pytest.raises(NotFoundError):
        store.mark_batch_submitted(999, TX1)
    with pytest.raises(NotFoundError):
        store.mark_broadcast(999)
    assert store.get_batch(999) is None


def test_retry_sends_failed_batches_back_with_their_proofs(
    store: Store, integrator_id: int
) -> None:
    first, second, third = _frozen_batches(store, integrator_id, 3)
    before = store.batch_receipts(first)
    entry = store.record_signed_tx(first, 3, SIGNER, b"\x02raw", TX1)
    store.mark_batch_failed(first, FailureCause.INVALID_BATCH)
    store.mark_batch_failed(second, FailureCause.ANCHORED_BY_ANOTHER_ISSUER)
    assert [b.id for b in store.list_batches((BatchState.FAILED,))] == [second, first]
    (back,) = store.retry_failed_batches(first)
    assert back.state is BatchState.FROZEN
    assert _receipt_states(store, first) == {ReceiptState.BATCHED}
    assert [e.state for e in store.outbox_of_batch(first)] == [OutboxState.DROPPED]
    assert store.outbox_of_batch(first)[0].id == entry.id
    after = store.batch_receipts(first)
    assert [(r.salt, r.leaf, r.proof) for r in after] == [(r.salt, r.leaf, r.proof) for r in before]
    with pytest.raises(InvalidTransitionError):
        store.retry_failed_batches(third)  # frozen, not failed
    with pytest.raises(NotFoundError):
        store.retry_failed_batches(999)
    assert [b.id for b in store.retry_failed_batches()] == [second]
    assert store.list_batches((BatchState.FAILED,)) == []
    assert [b.id for b in store.list_batches(newest_first=False)] == [first, second, third]


def test_a_hold_is_recorded_on_a_frozen_batch_only(store: Store, integrator_id: int) -> None:
    [batch_id] = _frozen_batches(store, integrator_id, 1)
    held = store.note_hold(batch_id, FailureCause.PAUSED)
    assert held.state is BatchState.FROZEN and held.failure_reason == "paused"
    store.record_signed_tx(batch_id, 0, SIGNER, b"\x02raw", TX1)
    store.mark_batch_submitted(batch_id, TX1)
    with pytest.raises(InvalidTransitionError):
        store.note_hold(batch_id, FailureCause.PAUSED)


def test_a_send_records_its_bytes_and_marks_every_batch_in_one_transaction(
    store: Store, integrator_id: int
) -> None:
    first, second, third = _frozen_batches(store, integrator_id, 3)
    erased = store.batch_receipts(second)[0].id
    store.erase(erased)
    entry, batches = store.record_signed_submission(
        [second, first], 5, SIGNER, b"\x02raw", TX1, max_fee_per_gas=10**10,
        max_priority_fee_per_gas=10**9,
    )  # fmt: skip
    assert entry.state is OutboxState.SIGNED and entry.batch_ids == (first, second)
    assert entry.nonce == 5 and entry.max_fee_per_gas == 10**10
    assert [b.id for b in batches] == [first, second]
    for batch_id in (first, second):
        batch = store.get_batch(batch_id)
        assert batch is not None and batch.state is BatchState.SUBMITTED
        assert batch.tx_hash == TX1 and batch.submitted_at is not None
        assert store.outbox_of_batch(batch_id) == [entry]
    assert _receipt_states(store, first) == {ReceiptState.SUBMITTED}
    assert _receipt_states(store, second) == {ReceiptState.SUBMITTED, ReceiptState.ERASED}
    assert store.get_receipt(erased).state is ReceiptState.ERASED  # type: ignore[union-attr]
    assert store.get_batch(third).state is BatchState.FROZEN  # type: ignore[union-attr]
    assert store.live_outbox(SIGNER) == [entry]


def test_a_refused_send_writes_nothing(store: Store, integrator_id: int) -> None:
    first, second, third = _frozen_batches(store, integrator_id, 3)
    store.mark_batches_submitted([second], TX1)
    # A batch no longer frozen among them: no row, no batch marked.
    with pytest.raises(InvalidTransitionError):
        store.record_signed_submission([first, second], 1, SIGNER, b"\x02a", TX2)
    with pytest.raises(NotFoundError):
        store.record_signed_submission([first, 999], 1, SIGNER, b"\x02a", TX2)
    assert store.outbox_of_batch(first) == [] and store.live_outbox(SIGNER) == []
    assert store.get_batch(first).state is BatchState.FROZEN  # type: ignore[union-attr]
    # The nonce is held by a live row of the signer: refused, nothing marked.
    store.record_signed_tx(third, 1, SIGNER, b"\x02b", TX3)
    with pytest.raises(StoreError):
        store.record_signed_submission([first], 1, SIGNER, b"\x02a", TX2)
    assert store.get_batch(first).state is BatchState.FROZEN  # type: ignore[union-attr]
    assert _receipt_states(store, first) == {ReceiptState.BATCHED}
    assert [e.nonce for e in store.live_outbox(SIGNER)] == [1]


def test_the_outbox_of_many_batches_in_one_read(store: Store, integrator_id: int) -> None:
    first, second, third = _frozen_batches(store, integrator_id, 3)
    both = store.record_signed_tx([first, second], 1, SIGNER, b"\x02a", TX1)
    bump = store.record_signed_tx([first, second], 1, SIGNER, b"\x02b", TX2, replaces=both.id)
    found = store.outbox_of_batches([third, second, first, second])
    assert found == {i: store.outbox_of_batch(i) for i in (first, second, third)}
    assert [e.id for e in found[first]] == [both.id, bump.id] and found[third] == []
    assert found[first][0].state is OutboxState.REPLACED
    assert store.outbox_of_batches([]) == {}
