"""The store of requested status changes, on SQLite and PostgreSQL: one open change a document,
the raw transaction stored before broadcast, and every transition named."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from anchor.service.batcher import close_batches
from anchor.service.intake import submit
from anchor.store import ChangePendingError, InvalidTransitionError, Store, open_store
from anchor.types import StatusChangeKind, StatusChangeState
from tests.support.store import TEST_PEPPER, digest_hex, url_of


def anchored(store: Store, integrator_id: int, count: int = 2) -> list[str]:
    """``count`` receipts of the integrator, batched and marked anchored."""
    receipts = submit(store, [digest_hex(i) for i in range(count)], integrator_id)
    (batch_id,) = close_batches(store, max_batch_size=count, max_batch_age=3600)
    store.mark_batch_submitted(batch_id, b"\x01" * 32)
    store.mark_batch_anchored(batch_id, b"\x01" * 32, 7, b"\x02" * 32)
    return [r.id for r in receipts]


def issuer_of(store: Store, integrator_id: int) -> int:
    integrator = store.get_integrator(integrator_id)
    assert integrator is not None and integrator.issuer_id is not None
    return integrator.issuer_id


def test_a_change_goes_pending_sent_done_and_one_at_a_time(
    store: Store, integrator_id: int
) -> None:
    first, second = anchored(store, integrator_id)
    issuer = issuer_of(store, integrator_id)
    change = store.request_status_change(first, issuer, StatusChangeKind.SUSPEND, reason=1)
    assert (change.state, change.reason, change.raw_tx) == (StatusChangeState.PENDING, 1, None)
    with pytest.raises(ChangePendingError, match=change.id):
        store.request_status_change(first, issuer, StatusChangeKind.REVOKE, reason=2)
    other = store.request_status_change(
        second, issuer, StatusChangeKind.EXTEND, valid_until=date(2030, 1, 31)
    )  # another document of the body is not held up
    assert store.get_status_change(other.id) == other
    assert other.valid_until == date(2030, 1, 31)
    assert [c.id for c in store.open_status_changes()] == [change.id, other.id]

    sent = store.record_status_tx(change.id, "0xKey", 3, b"raw", b"\x03" * 32)
    assert (sent.state, sent.nonce, sent.raw_tx, sent.sent_at) == (
        StatusChangeState.SENT, 3, b"raw", None
    )  # fmt: skip
    with pytest.raises(InvalidTransitionError, match="is sent; it cannot become sent"):
        store.record_status_tx(change.id, "0xKey", 3, b"raw", b"\x03" * 32)
    assert store.mark_status_broadcast(change.id).sent_at is not None
    done = store.mark_status_done(change.id, 42)
    assert (done.state, done.block_number) == (StatusChangeState.DONE, 42)
    with pytest.raises(InvalidTransitionError):
        store.mark_status_failed(change.id, "too late")
    assert store.open_status_change_of(first) is None
    again = store.request_status_change(first, issuer, StatusChangeKind.LIFT)  # now it may
    assert [c.id for c in store.status_changes_of(first)] == [change.id, again.id]


def test_a_taken_nonce_sends_it_back_and_a_refusal_fails_it(
    store: Store, integrator_id: int
) -> None:
    (receipt, _) = anchored(store, integrator_id)
    issuer = issuer_of(store, integrator_id)
    change = store.request_status_change(receipt, issuer, StatusChangeKind.REVOKE, reason=5)
    store.record_status_tx(change.id, "0xKey", 0, b"raw", b"\x04" * 32)
    back = store.return_status_to_pending(change.id, "its nonce went to another transaction")
    assert (back.state, back.raw_tx, back.nonce, back.tx_hash) == (
        StatusChangeState.PENDING, None, None, None
    )  # fmt: skip
    assert back.error == "its nonce went to another transaction"
    noted = store.note_status_error(change.id, "the node refuses the transaction's fee")
    assert noted.state is StatusChangeState.PENDING
    failed = store.mark_status_failed(change.id, "the document is revoked already")
    assert (failed.state, failed.error) == (StatusChangeState.FAILED, failed.error)
    assert store.open_status_changes() == []


def test_two_stores_racing_for_one_document_store_one_change(
    store: Store, integrator_id: int
) -> None:
    """Another store (process) is refused by the check, and a write past the check by the
    partial unique index: at most one open change a document."""
    (receipt, _) = anchored(store, integrator_id)
    issuer = issuer_of(store, integrator_id)
    twin = open_store(url_of(store), key_pepper=TEST_PEPPER)
    try:
        store.request_status_change(receipt, issuer, StatusChangeKind.SUSPEND, reason=0)
        with pytest.raises(ChangePendingError):
            twin.request_status_change(receipt, issuer, StatusChangeKind.SUSPEND, reason=0)
    finally:
        twin.close()
    copy = (
        "INSERT INTO status_changes (id, receipt_id, issuer_id, kind, state, created_at, "
        "updated_at) SELECT 'twin', receipt_id, issuer_id, kind, 'sent', created_at, "
        f"updated_at FROM status_changes WHERE receipt_id = '{receipt}'"
    )
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.exec_driver_sql(copy)
    assert len(store.status_changes_of(receipt)) == 1
