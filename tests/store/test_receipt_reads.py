"""`Store.receipt_and_batch`: the one-read path of GET /v1/receipts/{id}, same copy as the ORM's."""

from __future__ import annotations

from anchor.service.batcher import close_batches
from anchor.service.intake import submit
from anchor.store import Store
from tests.support.store import digest_hex


def test_pending_receipt_has_no_batch(store: Store, integrator_id: int) -> None:
    [receipt] = submit(store, [digest_hex(1)], integrator_id)
    assert store.receipt_and_batch(receipt.id, integrator_id) == (
        store.get_receipt(receipt.id),
        None,
    )


def test_batched_receipt_reads_as_the_orm_copies(store: Store, integrator_id: int) -> None:
    receipts = submit(store, [digest_hex(i) for i in range(3)], integrator_id)
    [batch_id] = close_batches(store, 3, 3600)
    store.mark_batch_anchored(batch_id, b"\x01" * 32, 10, b"\x02" * 32)
    for r in receipts:
        found = store.receipt_and_batch(r.id, integrator_id)
        assert found == (store.get_receipt(r.id), store.get_batch(batch_id))
        assert found[0].proof and found[1] is not None and found[1].block_hash == b"\x02" * 32


def test_unknown_or_another_integrators_receipt_is_none(store: Store, integrator_id: int) -> None:
    [receipt] = submit(store, [digest_hex(2)], integrator_id)
    assert store.receipt_and_batch("nope", integrator_id) is None
    assert store.receipt_and_batch(receipt.id, integrator_id + 1) is None


def test_erased_receipt_reads_erased(store: Store, integrator_id: int) -> None:
    [receipt] = submit(store, [digest_hex(3)], integrator_id)
    store.erase(receipt.id, integrator_id)
    found = store.receipt_and_batch(receipt.id, integrator_id)
    assert found is not None and found[0].is_erased and found[0].digest is None
