"""Every due body's batch closed in ONE store transaction (`Store.close_due_batches`), as the
worker does in a send window: one commit for all of them, each batch its own body's, a body
not due left alone, a race or a crash in any body's seal taking none of them half."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Connection, event

from anchor.service.batcher import seal, seal_due_batches
from anchor.service.intake import submit
from anchor.store import Store
from anchor.store.batches import SealedBatch
from anchor.store.models import utcnow
from anchor.types import ReceiptState
from tests.store.test_batch_races import _committed_state
from tests.store.test_batcher import HOUR, _assert_batch_verifies
from tests.support.store import digest_hex, make_issuer


def _bodies(store: Store, sizes: Sequence[int]) -> list[tuple[int, list[str]]]:
    """One onboarded body per size, each with that many pending receipts (distinct digests)."""
    made, start = [], 0
    for n, size in enumerate(sizes):
        issuer = make_issuer(store, f"Commune {n}", body_id=n + 1)
        integrator = store.create_integrator(f"Integrator {n}", issuer).id
        digests = [digest_hex(start + i) for i in range(size)]
        made.append((issuer, [r.id for r in submit(store, digests, integrator)]))
        start += size
    return made


def _later() -> datetime:
    """A moment at which every receipt of the test is over a second old."""
    return utcnow() + timedelta(seconds=5)


@contextmanager
def commits(store: Store) -> Iterator[list[int]]:
    """Count the commits of write transactions of the store's engine inside the block."""
    seen: list[int] = []

    def on_execute(conn: Connection, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            conn.info["wrote"] = True

    def on_commit(conn: Connection) -> None:
        if conn.info.pop("wrote", False):
            seen.append(1)

    event.listen(store.engine, "before_cursor_execute", on_execute)
    event.listen(store.engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(store.engine, "commit", on_commit)
        event.remove(store.engine, "before_cursor_execute", on_execute)


def test_every_due_body_in_one_commit(store: Store) -> None:
    made = _bodies(store, [3, 1, 4])
    with commits(store) as seen:
        closed = store.close_due_batches(10, [(i, 1.0) for i, _ in made], seal, _later())
    assert len(seen) == 1
    assert [(c.issuer_id, c.leaf_count) for c in closed] == [(i, len(r)) for i, r in made]
    for c, (issuer, receipts) in zip(closed, made, strict=True):
        batch = store.get_batch(c.batch_id)
        assert batch is not None and batch.issuer_id == issuer
        assert {r.id for r in store.batch_receipts(c.batch_id)} == set(receipts)
        _assert_batch_verifies(store, c.batch_id)
    assert store.pending_count() == 0


def test_a_body_not_due_is_left_pending(store: Store) -> None:
    (young, kept), (old, _) = _bodies(store, [2, 2])
    later = utcnow() + timedelta(seconds=30)
    closed = store.close_due_batches(10, [(young, HOUR), (old, 10.0)], seal, later)
    assert [c.issuer_id for c in closed] == [old]
    assert store.pending_count_of(young) == 2
    assert all(store.get_receipt(r).state is ReceiptState.PENDING for r in kept)  # type: ignore[union-attr]
    with commits(store) as seen:
        assert store.close_due_batches(10, [(young, HOUR)], seal) == []
    assert seen == []  # nothing due: nothing written


def test_age_zero_closes_every_pending_digest_however_young(store: Store) -> None:
    """The worker's early close in a send window: a digest acknowledged a fraction of a
    millisecond before the close (here: after the close's clock, as a skewed or coarse clock
    may say) makes this block's batch instead of waiting a block."""
    ((issuer, receipts),) = _bodies(store, [3])
    before = utcnow() - timedelta(seconds=1)  # earlier than every receipt's creation time
    assert seal_due_batches(store, 10, 0.001, before) == []
    (closed,) = seal_due_batches(store, 10, 0.0, before)
    assert closed.issuer_id == issuer and closed.leaf_count == len(receipts)
    assert store.pending_count() == 0
    _assert_batch_verifies(store, closed.batch_id)
    with pytest.raises(ValueError, match="max_batch_age >= 0"):
        seal_due_batches(store, 10, -1.0)


def test_a_body_with_nothing_due_costs_no_read_of_its_receipts(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker asks a hundred times a second in a send window: a body whose backlog is too
    young and too small is left out by its count and oldest time, before any transaction."""
    (young, _), (full, _) = _bodies(store, [2, 3])
    asked: list[list[tuple[int, float]]] = []
    real = store.close_due_batches

    def close_due_batches(size: int, bodies: Sequence[tuple[int, float]], *args: object) -> object:
        asked.append(list(bodies))
        return real(size, bodies, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "close_due_batches", close_due_batches)
    assert seal_due_batches(store, 10, HOUR) == [] and asked == []  # young and small: no call
    (closed,) = seal_due_batches(store, 3, HOUR)  # the full body only, at once
    assert closed.issuer_id == full and asked == [[(full, HOUR)]]
    (late,) = seal_due_batches(store, 10, 1.0, _later())  # old enough
    assert late.issuer_id == young and asked[-1] == [(young, 1.0)]
    assert store.pending_count() == 0


def test_full_bodies_go_again_until_nothing_is_due(store: Store) -> None:
    (big, receipts), (small, _) = _bodies(store, [7, 1])
    closed = seal_due_batches(store, 3, 1.0, _later())
    assert sorted((c.issuer_id, c.leaf_count) for c in closed) == sorted(
        [(big, 3), (big, 3), (big, 1), (small, 1)]
    )
    assert [c.batch_id for c in closed] == sorted(c.batch_id for c in closed)  # creation order
    batched = set()
    for c in closed:
        _assert_batch_verifies(store, c.batch_id)
        batched |= {r.id for r in store.batch_receipts(c.batch_id)}
    assert set(receipts) <= batched and store.pending_count() == 0


def test_an_erasure_in_another_body_during_a_seal(store: Store) -> None:
    (first, _), (second, theirs) = _bodies(store, [3, 3])
    victim = theirs[1]
    calls: list[int] = []
    eraser: list[threading.Thread] = []

    def erase_then_seal(digests: Sequence[bytes]) -> SealedBatch:
        calls.append(len(digests))
        if len(calls) == 1:
            # The second body's rows: read already on SQLite, not yet locked on PostgreSQL.
            eraser.append(threading.Thread(target=store.erase, args=(victim,)))
            eraser[0].start()
            eraser[0].join(10)
        return seal(digests)

    closed = store.close_due_batches(10, [(first, 1.0), (second, 1.0)], erase_then_seal, _later())
    assert not eraser[0].is_alive()
    assert [(c.issuer_id, c.leaf_count) for c in closed] == [(first, 3), (second, 2)]
    erased = store.get_receipt(victim)
    assert erased is not None and erased.state is ReceiptState.ERASED and erased.batch_id is None
    # SQLite sealed both before writing; the second's count differed, the whole write was
    # rolled back and both were closed again under the lock. PostgreSQL read the second body
    # after the erasure.
    assert calls == ([3, 3, 3, 2] if store.dialect == "sqlite" else [3, 2])
    assert _committed_state(store)[0] == 2
    for c in closed:
        _assert_batch_verifies(store, c.batch_id)


def test_a_crash_in_one_seal_leaves_every_body_pending(store: Store) -> None:
    made = _bodies(store, [2, 2, 2])
    calls: list[int] = []

    def broken_second(digests: Sequence[bytes]) -> SealedBatch:
        calls.append(len(digests))
        if len(calls) == 2:
            raise RuntimeError("out of entropy")
        return seal(digests)

    with pytest.raises(RuntimeError, match="out of entropy"):
        store.close_due_batches(10, [(i, 1.0) for i, _ in made], broken_second, _later())
    assert _committed_state(store) == (0, {("pending", None, None, None)})
    assert len(seal_due_batches(store, 10, 1.0, _later())) == 3
