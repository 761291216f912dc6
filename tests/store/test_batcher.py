"""Batch closing: by size, by age, stored proofs, crash safety, concurrent batchers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from anchor.merkle import split_proof, verify_proof
from anchor.merkle.hashing import fold_proof, leaf_hash
from anchor.service.batcher import close_batches, seal
from anchor.service.intake import submit
from anchor.store import Store, open_store
from anchor.store import batches as store_batches
from anchor.store.batches import ReceiptsChangedError, SealedBatch, SealedLeaf, receipt_rows
from anchor.store.models import utcnow
from anchor.types import BatchState, ReceiptState
from tests.support.store import TEST_PEPPER, digest_hex, url_of

HOUR = 3600.0


def _submit_n(store: Store, integrator_id: int, n: int, start: int = 0) -> list[str]:
    return [r.id for r in submit(store, [digest_hex(start + i) for i in range(n)], integrator_id)]


def _assert_batch_verifies(store: Store, batch_id: int) -> None:
    batch = store.get_batch(batch_id)
    assert batch is not None and batch.state is BatchState.FROZEN
    receipts = store.batch_receipts(batch_id)
    assert len(receipts) == batch.leaf_count
    assert sorted(r.value_index for r in receipts) == list(range(batch.leaf_count))  # type: ignore[type-var]
    assert len({r.salt for r in receipts}) == batch.leaf_count  # one fresh salt per digest
    for r in receipts:
        assert r.state is ReceiptState.BATCHED
        assert r.salt is not None and r.digest is not None and r.leaf is not None
        assert r.leaf == leaf_hash(r.salt, r.digest.bytes)
        assert verify_proof(batch.root, r.leaf, list(r.proof))
        assert fold_proof(r.leaf, r.proof) == batch.root


def test_closes_by_size(store: Store, integrator_id: int) -> None:
    ids = _submit_n(store, integrator_id, 7)
    assert close_batches(store, max_batch_size=8, max_batch_age=HOUR) == []
    assert store.pending_count() == 7
    _submit_n(store, integrator_id, 10, start=7)
    closed = close_batches(store, max_batch_size=8, max_batch_age=HOUR)
    assert len(closed) == 2
    assert store.pending_count() == 1
    first = store.batch_receipts(closed[0])
    assert set(ids) <= {r.id for r in first}  # oldest first
    for batch_id in closed:
        _assert_batch_verifies(store, batch_id)


def test_closes_by_age(store: Store, integrator_id: int) -> None:
    _submit_n(store, integrator_id, 3)
    soon = utcnow() + timedelta(seconds=5)
    assert close_batches(store, 100, 60, now=soon) == []
    later = utcnow() + timedelta(seconds=61)
    [batch_id] = close_batches(store, 100, 60, now=later)
    _assert_batch_verifies(store, batch_id)
    assert store.pending_count() == 0
    assert close_batches(store, 100, 60, now=later) == []


def test_single_digest_batch(store: Store, integrator_id: int) -> None:
    _submit_n(store, integrator_id, 1)
    [batch_id] = close_batches(store, 1, HOUR)
    _assert_batch_verifies(store, batch_id)
    [r] = store.batch_receipts(batch_id)
    assert r.proof == ()


def test_crash_inside_close_leaves_receipts_pending(
    store: Store, integrator_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _submit_n(store, integrator_id, 6)
    real_fill = store_batches.fill_receipts

    def half_then_crash(conn, batch_id, rows, now):  # type: ignore[no-untyped-def]
        real_fill(conn, batch_id, rows[:3], now)  # batch row and half written
        raise RuntimeError("power cut")

    monkeypatch.setattr(store_batches, "fill_receipts", half_then_crash)
    with pytest.raises(RuntimeError, match="power cut"):
        close_batches(store, 6, HOUR)
    monkeypatch.undo()

    other = open_store(
        url_of(store), key_pepper=TEST_PEPPER
    )  # a second engine sees the committed state only
    try:
        with other.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM batches")).scalar_one() == 0
            states = conn.execute(text("SELECT state, salt, proof, batch_id FROM receipts")).all()
        assert {tuple(row) for row in states} == {("pending", None, None, None)}
    finally:
        other.close()
    [batch_id] = close_batches(store, 6, HOUR)  # the next run batches them whole
    _assert_batch_verifies(store, batch_id)


def test_two_concurrent_batchers_never_share_a_receipt(store: Store, integrator_id: int) -> None:
    total, size, workers = 400, 20, 4
    for start in range(0, total, 100):
        _submit_n(store, integrator_id, 100, start=start)
    results: list[list[int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(workers)

    def work() -> None:
        mine = open_store(url_of(store), key_pepper=TEST_PEPPER)
        try:
            barrier.wait()
            results.append(close_batches(mine, size, HOUR))
        except BaseException as e:  # noqa: BLE001 (handed to the main thread, asserted there)
            errors.append(e)
        finally:
            mine.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    batch_ids = [b for r in results for b in r]
    assert len(batch_ids) == len(set(batch_ids)) == total // size
    seen: set[str] = set()
    for batch_id in batch_ids:
        receipts = store.batch_receipts(batch_id)
        assert len(receipts) == size
        ids = {r.id for r in receipts}
        assert not ids & seen
        seen |= ids
    assert len(seen) == total and store.pending_count() == 0
    _assert_batch_verifies(store, batch_ids[0])


def test_rejects_nonsense_limits(store: Store) -> None:
    with pytest.raises(ValueError, match="max_batch_size"):
        close_batches(store, 0, HOUR)


def test_a_receipt_that_is_no_longer_pending_aborts_the_batch(
    store: Store, integrator_id: int
) -> None:
    """The guard behind the row locks: the update counts the receipts it really changed."""
    [r] = submit(store, [digest_hex(1)], integrator_id)
    store.erase(r.id)
    leaf = SealedLeaf(0, b"s" * 32, b"l" * 32, b"")
    with (
        pytest.raises(ReceiptsChangedError, match="1 receipts changed"),
        store._connection() as conn,
    ):
        store_batches.fill_receipts(conn, 1, receipt_rows([leaf], [r.id]), utcnow())
    got = store.get_receipt(r.id)
    assert got is not None and got.state is ReceiptState.ERASED


def test_seal_rejects_a_digest_of_the_wrong_size() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        seal([b"\x00" * 32, b"\x00" * 31])


def test_seal_draws_distinct_salts_and_gives_every_leaf_once() -> None:
    digests = [bytes([i]) * 32 for i in range(50)]
    sealed = seal(digests)
    leaves = list(sealed.leaves)
    assert sorted(x.value_index for x in leaves) == list(range(50)) and sealed.leaf_count == 50
    assert len({x.salt for x in leaves}) == 50
    for x in leaves:
        assert x.leaf == leaf_hash(x.salt, digests[x.value_index])
        assert fold_proof(x.leaf, split_proof(x.packed_proof)) == sealed.root


def test_a_batch_written_in_several_statements_is_whole_or_absent(
    store: Store, integrator_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite writes `FILL_ROWS` receipts per statement: a batch spans several, and a changed
    receipt in the last one still rolls back the first ones."""
    monkeypatch.setattr(store_batches, "FILL_ROWS", 3)
    ids = _submit_n(store, integrator_id, 10)
    leaves = [SealedLeaf(i, bytes([i]) * 32, bytes([i]) * 32, b"") for i in range(10)]
    store.erase(ids[9])
    sealed, issuer = SealedBatch(b"r" * 32, 10, leaves), store.backlogs()[0].issuer_id
    with pytest.raises(ReceiptsChangedError, match="1 receipts changed"), store._connection() as c:
        store_batches._insert_frozen(c, sealed, receipt_rows(leaves, ids), issuer)
    assert store.list_batches() == []
    assert store.pending_count() == 9
    [batch_id] = close_batches(store, 9, HOUR)
    _assert_batch_verifies(store, batch_id)
