"""Closing a batch while the world moves: an erasure, another batcher, an intake commit, a crash
in the seal and a SIGKILL in the write, each between the read of the pending receipts and the
commit of their batch. On SQLite the read and the seal happen outside the write lock, so these
are real races there; on PostgreSQL the rows are locked from the read on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from anchor.service.batcher import close_batches, seal
from anchor.service.intake import submit
from anchor.store import Store, open_store
from anchor.store.batches import SealedBatch
from anchor.store.models import utcnow
from anchor.types import ReceiptState
from tests.store.test_batcher import HOUR, _assert_batch_verifies, _submit_n
from tests.support.store import TEST_PEPPER, digest_hex, url_of


def _issuer_of(store: Store) -> int:
    [backlog] = store.backlogs()
    return backlog.issuer_id


def _committed_state(store: Store) -> tuple[int, set[tuple[object, ...]]]:
    """The batch count and the (state, salt, proof, batch_id) set, read by a second engine."""
    other = open_store(url_of(store), key_pepper=TEST_PEPPER)
    try:
        with other.engine.connect() as conn:
            batches = conn.execute(text("SELECT count(*) FROM batches")).scalar_one()
            rows = conn.execute(text("SELECT state, salt, proof, batch_id FROM receipts")).all()
        return int(batches), {tuple(row) for row in rows}
    finally:
        other.close()


def test_a_receipt_erased_during_the_seal_is_never_batched(
    store: Store, integrator_id: int
) -> None:
    ids = _submit_n(store, integrator_id, 5)
    victim = ids[2]
    calls: list[list[bytes]] = []
    eraser: list[threading.Thread] = []

    def erase_then_seal(digests: Sequence[bytes]) -> SealedBatch:
        calls.append(list(digests))
        if len(calls) == 1:
            # On PostgreSQL the batcher holds the row lock: the erasure waits for its commit.
            eraser.append(threading.Thread(target=store.erase, args=(victim,)))
            eraser[0].start()
            eraser[0].join(0.5 if store.dialect == "postgresql" else 10)
        return seal(digests)

    later = utcnow() + timedelta(hours=2)  # due by age, so four receipts still make a batch
    batch_id = store.close_due_batch(5, HOUR, erase_then_seal, later, issuer_id=_issuer_of(store))
    eraser[0].join(10)
    assert batch_id is not None and not eraser[0].is_alive()
    erased = store.get_receipt(victim)
    assert erased is not None and erased.state is ReceiptState.ERASED
    assert erased.digest is None and erased.salt is None and erased.proof == ()
    assert _committed_state(store)[0] == 1  # the first tree, with the erased digest, is gone
    if store.dialect == "sqlite":
        # Erased between the read and the write: the write was rolled back, the batch closed
        # again, under the lock, without it.
        assert len(calls) == 2 and len(calls[0]) == 5 and len(calls[1]) == 4
        assert erased.batch_id is None
        assert {r.id for r in store.batch_receipts(batch_id)} == set(ids) - {victim}
        _assert_batch_verifies(store, batch_id)
    else:
        # Locked: batched first, then erased like any batched receipt (its proof deleted).
        assert len(calls) == 1 and erased.batch_id == batch_id
    assert store.pending_count() == 0


def test_a_second_batcher_between_read_and_write_never_shares_a_receipt(
    store: Store, integrator_id: int
) -> None:
    ids = _submit_n(store, integrator_id, 30)
    issuer = _issuer_of(store)
    other = open_store(url_of(store), key_pepper=TEST_PEPPER)
    inner: list[int | None] = []
    calls = 0

    def race_then_seal(digests: Sequence[bytes]) -> SealedBatch:
        nonlocal calls
        calls += 1
        if calls == 1:  # the other batcher runs whole while this one holds its sealed tree
            inner.append(other.close_due_batch(10, HOUR, seal, issuer_id=issuer))
        return seal(digests)

    try:
        outer = store.close_due_batch(10, HOUR, race_then_seal, issuer_id=issuer)
    finally:
        other.close()
    [first] = inner
    assert first is not None and outer is not None and first != outer
    a = {r.id for r in store.batch_receipts(first)}
    b = {r.id for r in store.batch_receipts(outer)}
    assert len(a) == len(b) == 10 and not a & b
    assert a | b <= set(ids) and store.pending_count() == 10
    # SQLite: both read the same ten; the outer write found them batched and was redone.
    assert calls == (2 if store.dialect == "sqlite" else 1)
    for batch_id in (first, outer):
        _assert_batch_verifies(store, batch_id)


def test_a_crash_in_the_seal_leaves_every_receipt_pending(store: Store, integrator_id: int) -> None:
    _submit_n(store, integrator_id, 4)

    def broken(digests: Sequence[bytes]) -> SealedBatch:
        raise RuntimeError("out of entropy")

    with pytest.raises(RuntimeError, match="out of entropy"):
        store.close_due_batch(4, HOUR, broken, issuer_id=_issuer_of(store))
    assert _committed_state(store) == (0, {("pending", None, None, None)})
    [batch_id] = close_batches(store, 4, HOUR)
    _assert_batch_verifies(store, batch_id)


def test_intake_commits_while_a_batch_is_sealed(store: Store, integrator_id: int) -> None:
    """On SQLite the tree is built outside the write lock: an intake commit does not wait."""
    if store.dialect != "sqlite":
        pytest.skip("PostgreSQL's row locks never blocked the intake")
    _submit_n(store, integrator_id, 8)
    took: list[list[str]] = []

    def seal_with_intake(digests: Sequence[bytes]) -> SealedBatch:
        if not took:
            intake = threading.Thread(
                target=lambda: took.append(
                    [r.id for r in submit(store, [digest_hex(99)], integrator_id)]
                )
            )
            intake.start()
            intake.join(5)  # under the old single transaction: the 30-s busy timeout
            assert took, "the intake waited for the batcher's write lock"
        return seal(digests)

    batch_id = store.close_due_batch(8, HOUR, seal_with_intake, issuer_id=_issuer_of(store))
    assert batch_id is not None and store.pending_count() == 1
    _assert_batch_verifies(store, batch_id)


_KILLED_IN_THE_WRITE = textwrap.dedent(
    """
    import os, signal, sys
    from anchor.service.batcher import close_batches
    from anchor.store import batches, open_store

    real_fill = batches.fill_receipts

    def half_then_sigkill(conn, batch_id, rows, now):
        real_fill(conn, batch_id, rows[:3], now)  # the batch row and half the receipts
        os.kill(os.getpid(), signal.SIGKILL)

    batches.fill_receipts = half_then_sigkill
    close_batches(open_store(sys.argv[1], key_pepper=sys.argv[2].encode()), 6, 3600.0)
    """
)


def test_a_batcher_killed_in_the_write_leaves_every_receipt_pending(
    store: Store, integrator_id: int, tmp_path: Path
) -> None:
    _submit_n(store, integrator_id, 6)
    script = tmp_path / "killed.py"
    script.write_text(_KILLED_IN_THE_WRITE)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(script), url_of(store), TEST_PEPPER.decode()],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    assert _committed_state(store) == (0, {("pending", None, None, None)})
    [batch_id] = close_batches(store, 6, HOUR)  # the next run batches them whole
    _assert_batch_verifies(store, batch_id)
