"""The batches one relayed transaction carries are anchored together: one store transaction, one
``anchored_at`` (the last of forty no longer waits for thirty-nine commits), all or none."""

from __future__ import annotations

import pytest

from anchor.store import InvalidTransitionError
from anchor.types import BatchState, FailureCause, OutboxState, ReceiptState
from tests.service.test_bodies import run
from tests.support.service import Env


def test_a_relayed_transactions_batches_are_anchored_at_one_moment(env: Env) -> None:
    for n in range(3):
        env.add_body(f"Commune {n}")
    ids = [i for body in env.bodies for i in env.take(2, body.integrator)]
    submitter = env.submitter(confirmations=1)
    submitter.step()
    (entry,) = env.store.outbox_of_batch(1)
    assert len(entry.batch_ids) == 4
    run(env, submitter, 2)
    batches = [env.store.get_batch(i) for i in entry.batch_ids]
    assert {b.state for b in batches if b is not None} == {BatchState.ANCHORED}
    assert len({b.anchored_at for b in batches if b is not None}) == 1
    assert {env.store.get_receipt(i).state for i in ids} == {ReceiptState.ANCHORED}  # type: ignore[union-attr]
    (mined,) = env.store.outbox_of_batch(1)
    assert mined.state == OutboxState.MINED
    assert submitter.finality.anchored_count == 4


def test_one_batch_that_cannot_be_anchored_leaves_them_all_as_they_were(env: Env) -> None:
    other = env.add_body("Commune de Bous")
    env.take(2)
    env.take(2, other.integrator)
    submitter = env.submitter(confirmations=1)
    env.automine(False)
    submitter.step()
    (entry,) = env.store.outbox_of_batch(1)
    first, second = entry.batch_ids
    env.store.mark_batch_failed(second, FailureCause.INVALID_BATCH)  # meanwhile
    with pytest.raises(InvalidTransitionError):
        env.store.mark_batches_anchored([first, second], entry.tx_hash, 5, b"\x01" * 32)
    kept = env.store.get_batch(first)
    assert kept is not None and kept.state == BatchState.SUBMITTED and kept.anchored_at is None
    assert env.store.outbox_of_batch(first)[0].state == OutboxState.BROADCAST
