"""`Store.receipt_read`: the one-read path of GET /v1/receipts/{id} (receipt, batch and facts in
one select), the same copies as the ORM's and `Store.document_facts`."""

from __future__ import annotations

from anchor.service.batcher import close_batches
from anchor.service.intake import submit
from anchor.store import ReceiptRead, Store
from tests.store.test_facts import permit
from tests.support.store import digest_hex


def test_pending_receipt_has_no_batch_and_no_facts(store: Store, integrator_id: int) -> None:
    [receipt] = submit(store, [digest_hex(1)], integrator_id)
    assert store.receipt_read(receipt.id, integrator_id) == ReceiptRead(
        store.get_receipt(receipt.id),  # type: ignore[arg-type]
        None,
        None,
    )


def test_batched_receipt_reads_as_the_orm_copies(store: Store, integrator_id: int) -> None:
    receipts = submit(store, [digest_hex(i) for i in range(3)], integrator_id)
    [batch_id] = close_batches(store, 3, 3600)
    store.mark_batch_anchored(batch_id, b"\x01" * 32, 10, b"\x02" * 32)
    for r in receipts:
        found = store.receipt_read(r.id, integrator_id)
        assert found is not None
        expected = ReceiptRead(store.get_receipt(r.id), store.get_batch(batch_id), None, 1)  # type: ignore[arg-type]
        assert found == expected
        assert found.body_id == 1  # make_issuer's onboarded body, the registry's id
        assert found.receipt.proof and found.batch is not None
        assert found.batch.block_hash == b"\x02" * 32


def test_a_typed_receipt_reads_with_its_facts(store: Store, integrator_id: int) -> None:
    [typed] = store.add_documents([permit()], integrator_id)
    [bare] = submit(store, [digest_hex(4)], integrator_id)
    [batch_id] = close_batches(store, 2, 3600)
    found = store.receipt_read(typed.id, integrator_id)
    assert found is not None and found.document is not None
    assert found.document == store.document_facts(typed.id)
    assert found.batch == store.get_batch(batch_id)
    other = store.receipt_read(bare.id, integrator_id)
    assert other is not None and other.document is None and other.batch == found.batch


def test_unknown_or_another_integrators_receipt_is_none(store: Store, integrator_id: int) -> None:
    [receipt] = submit(store, [digest_hex(2)], integrator_id)
    assert store.receipt_read("nope", integrator_id) is None
    assert store.receipt_read(receipt.id, integrator_id + 1) is None


def test_erased_receipt_reads_erased_without_facts(store: Store, integrator_id: int) -> None:
    [receipt] = submit(store, [digest_hex(3)], integrator_id)
    [typed] = store.add_documents([permit(reference="2026/0099")], integrator_id)
    for r in (receipt, typed):
        store.erase(r.id, integrator_id)
        found = store.receipt_read(r.id, integrator_id)
        assert found is not None and found.receipt.is_erased and found.receipt.digest is None
        assert found.document is None
