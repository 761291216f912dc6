"""The worker's step and the send window it began in: a window that opens during a step is
left to the next one, which closes every pending digest early and sends it all in one
transaction (nothing lost, nothing carried twice), and the worker does not sleep through it."""

from __future__ import annotations

import time

from anchor.service.intake import submit
from anchor.service.pacing import HeadClock, Window
from anchor.service.worker import MIN_PAUSE, Worker
from anchor.settings import load_settings
from anchor.types import BatchState
from tests.service.test_pipelining import assert_anchored_once, settle
from tests.support.service import Env


class Opening(HeadClock):
    """A pacing that predicts block ``number`` and opens its window when the submitter reads
    the head once ``opens_at_head`` is set: during a step, after the worker looked."""

    def __init__(self) -> None:
        super().__init__(0.5)
        self.number = 1
        self.opened = False
        self.opens_at_head = False

    def observe(self, number: int, timestamp: int) -> None:
        """The head the submitter reads at the start of its step: the window opens now."""
        if self.opens_at_head:
            self.opened = True

    def next_block(self) -> Window | None:
        """The block the test names, due in a second."""
        return Window(self.number, time.time() + 1, 2.0)

    def open_window(self) -> Window | None:
        """Open once opened."""
        return self.next_block() if self.opened else None


def worker_of(env: Env) -> tuple[Worker, Opening]:
    """A worker (batches due after 1 s) whose submitter paces by `Opening`, automine off."""
    env.automine(False)
    submitter = env.submitter(confirmations=1)
    pacing = Opening()
    submitter.pacing = pacing
    return Worker(load_settings(max_batch_age=1.0), env.store, submitter, env.metrics), pacing


def test_a_window_opened_during_a_step_waits_for_the_early_close(env: Env) -> None:
    worker, pacing = worker_of(env)
    frozen = env.take(2)  # one batch frozen, digests just acknowledged beside it
    young = [r.id for r in submit(env.store, ["ab" * 32, "cd" * 32], env.integrator)]
    pacing.opens_at_head = True
    worker.run_once()  # the window opens after the worker's close: no send in this step
    assert env.store.outbox_of_batch(1) == [] and worker.submitter.relay_lane.window is None
    assert [b.id for b in env.store.batches_in_state(BatchState.FROZEN)] == [1]
    assert worker.pause() == MIN_PAUSE  # a window open and not sent in: step again at once
    worker.run_once()  # the window's step: the young digests closed early, then one send
    (entry,) = env.store.outbox_of_batch(1)
    assert sorted(entry.batch_ids) == [1, 2]
    assert env.store.batches_in_state(BatchState.FROZEN) == []
    assert worker.pause() > MIN_PAUSE  # sent in this window: back to the usual wait
    settle(env, worker.submitter)
    assert_anchored_once(env, frozen + young)
    batches = [env.store.get_receipt(i).batch_id for i in frozen + young]  # type: ignore[union-attr]
    assert batches == [1, 1, 2, 2]


def test_a_window_open_when_the_step_began_is_sent_in_at_once(env: Env) -> None:
    worker, pacing = worker_of(env)
    ids = [r.id for r in submit(env.store, ["ef" * 32], env.integrator)]
    pacing.opened = True
    worker.run_once()
    assert len(env.store.batches_in_state(BatchState.SUBMITTED)) == 1
    assert worker.submitter.relay_lane.window == pacing.number
    pacing.number += 1
    ids += [r.id for r in submit(env.store, ["12" * 32], env.integrator)]
    worker.run_once()  # the next block's window, the first transaction still waiting
    assert len(env.store.batches_in_state(BatchState.SUBMITTED)) == 2
    assert worker.submitter.relay_lane.waiting == 2
    settle(env, worker.submitter)
    assert_anchored_once(env, ids)


class Timed(HeadClock):
    """The real pacing, keeping what each timed send took."""

    def __init__(self) -> None:
        super().__init__(0.5)
        self.sends: list[float] = []

    def took(self, seconds: float) -> None:
        """Keep it, and note it as the pacing does."""
        self.sends.append(seconds)
        super().took(seconds)


def test_a_send_before_any_window_is_timed_for_the_first_windows_lead(env: Env) -> None:
    submitter = env.submitter(confirmations=1)
    pacing = Timed()
    submitter.pacing = pacing
    worker = Worker(load_settings(max_batch_age=3600), env.store, submitter, env.metrics)
    worker.run_once()  # nothing frozen: no send, nothing timed
    assert pacing.sends == []
    env.take(2)
    worker.run_once()  # automine: no window, the batch goes out at once, and is timed
    assert env.store.batches_in_state(BatchState.FROZEN) == []
    assert len(pacing.sends) == 1 and pacing.lead >= pacing.sends[0] + 0.25


class Due(Opening):
    """An open window whose block is due at ``due`` (wall clock), as the test sets it."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = True
        self.due = time.time() + 60

    def next_block(self) -> Window | None:
        """The block the test names, due when the test says."""
        return Window(self.number, self.due, 2.0)


def test_a_quiet_window_leaves_out_the_steps_that_would_only_reread_the_head(env: Env) -> None:
    """Idle in an open window, the worker's steps (every `MIN_PAUSE`) neither read the chain
    nor do the bookkeeping; a digest that arrives is closed early and sent in the same window,
    and once the block is due the submitter steps again to see it."""
    env.automine(False)
    submitter = env.submitter(confirmations=1)
    submitter.pacing = pacing = Due()
    worker = Worker(load_settings(max_batch_age=1.0), env.store, submitter, env.metrics)
    steps: list[Window | None] = []
    kept: list[float] = []
    real_step, real_keep_up = submitter.step, worker._keep_up

    def step(window: Window | None = None, *, paced: bool = False) -> None:
        steps.append(window)
        real_step(window, paced=paced)

    def keep_up() -> None:
        kept.append(time.monotonic())
        real_keep_up()

    submitter.step = step  # type: ignore[method-assign]
    worker._keep_up = keep_up  # type: ignore[method-assign]
    worker.run_once()  # the first step: the submitter finds nothing to send
    assert len(steps) == 1 and submitter.quiet and len(kept) == 1
    for _ in range(5):
        worker.run_once()
    assert len(steps) == 1 and len(kept) == 1  # nothing read: the head cannot have changed
    worker._kept_at -= worker.settings.poll_interval
    worker.run_once()  # a poll interval later the metrics and the watcher run even so
    assert len(steps) == 1 and len(kept) == 2
    ids = [r.id for r in submit(env.store, ["34" * 32], env.integrator)]
    worker.run_once()  # closed early in the window, and sent in it at once
    assert len(steps) == 2 and len(env.store.batches_in_state(BatchState.SUBMITTED)) == 1
    pacing.number += 1
    pacing.due = time.time() - 0.01  # the next block is due: its head may be there
    worker.run_once()
    assert len(steps) == 3
    settle(env, worker.submitter)
    assert_anchored_once(env, ids)
