"""`Store.receipt_read` on an event loop's SQLite connection, through the driver
(`StoreBase._fetch_on_loop`): the read tests of `tests.store.test_receipt_reads` again, every
read made within `Store.on_loop`, and a driver error that answers StoreError once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from anchor.service.intake import submit
from anchor.store import ReceiptRead, Store, StoreError, open_store
from tests.store import test_receipt_reads as suite
from tests.support.store import TEST_PEPPER, digest_hex, make_issuer


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A SQLite store whose every `receipt_read` is made as an event loop makes it."""
    opened = open_store(f"sqlite:///{tmp_path / 'anchor.db'}", migrate=True, key_pepper=TEST_PEPPER)
    assert opened.reads_on_loop
    read = opened.receipt_read

    def on_loop(receipt_id: str, integrator_id: int) -> ReceiptRead | None:
        with opened.on_loop():
            return read(receipt_id, integrator_id)

    monkeypatch.setattr(opened, "receipt_read", on_loop)
    yield opened
    opened.close()


@pytest.fixture
def integrator_id(store: Store) -> int:
    return store.create_integrator("Loop reader", make_issuer(store)).id


test_pending_on_loop = suite.test_pending_receipt_has_no_batch_and_no_facts
test_batched_on_loop = suite.test_batched_receipt_reads_as_the_orm_copies
test_typed_on_loop = suite.test_a_typed_receipt_reads_with_its_facts
test_unknown_on_loop = suite.test_unknown_or_another_integrators_receipt_is_none
test_erased_on_loop = suite.test_erased_receipt_reads_erased_without_facts


def test_the_read_goes_through_the_driver_and_sees_every_commit(
    store: Store, integrator_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    [first] = submit(store, [digest_hex(1)], integrator_id)
    assert store.receipt_read(first.id, integrator_id) is not None
    # No SQLAlchemy connection is opened for the loop's read.
    monkeypatch.setattr(store, "_read_engine", lambda: pytest.fail("not the driver"))
    [second] = submit(store, [digest_hex(2)], integrator_id)  # committed by the pool's connection
    found = store.receipt_read(second.id, integrator_id)
    assert found is not None and found.receipt == store.get_receipt(second.id)


def test_a_driver_error_is_a_store_error_and_the_next_read_reconnects(
    store: Store, integrator_id: int
) -> None:
    [receipt] = submit(store, [digest_hex(3)], integrator_id)
    assert store.receipt_read(receipt.id, integrator_id) is not None
    store._loop_driver.fairy.driver_connection.close()  # the connection breaks under the loop
    with pytest.raises(StoreError, match="database error"):
        store.receipt_read(receipt.id, integrator_id)
    found = store.receipt_read(receipt.id, integrator_id)
    assert found is not None and found.receipt.id == receipt.id
