"""Issue 12: a lane with more than one transaction in flight, one sent in each block's window.

The pacing (`anchor.service.pacing`) is checked alone on a clock the test moves; the submitter
tests replace it by `Windows`, whose window is always open for the block the test names, on
anvil with automine off: the test decides what is mined and when. Whatever happens to the lower
transaction (mined, dropped from the pool, stuck and replaced, a crash between the two
broadcasts), every receipt ends anchored once, on the transaction of its nonce.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from anchor.chain.devchain import Anvil
from anchor.service.pacing import HeadClock, Window
from anchor.service.submitter import Submitter
from anchor.types import BatchState, OutboxState
from tests.service.test_nonce_gaps import assert_all_anchored_on_canonical_chain
from tests.service.test_worker_faults import anchored_pairs
from tests.support.service import Env, make_env


class Clock:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def regular_heads(clock: Clock, pacing: HeadClock, count: int, lag: float = 0.1) -> None:
    """``count`` heads 2 s apart, each read ``lag`` s after it was made."""
    for n in range(count):
        clock.now = 1_000.0 + 2 * n + lag
        pacing.observe(100 + n, 5_000 + 2 * n)


def test_regular_heads_predict_the_next_block_and_its_window() -> None:
    clock = Clock()
    pacing = HeadClock(0.5, clock)
    regular_heads(clock, pacing, 2)
    assert pacing.next_block() is None  # two heads are not enough
    regular_heads(clock, pacing, 4)
    window = pacing.next_block()
    assert window is not None and window.number == 104 and window.interval == 2.0
    assert window.due == pytest.approx(1_000.0 + 2 * 4 + 0.1)
    clock.now = window.due - 0.6
    assert pacing.open_window() is None
    assert pacing.wake_in() == pytest.approx(0.1)
    clock.now = window.due - 0.4
    assert pacing.open_window() == window
    # A slow send widens the window: it opens what the longest recent send took earlier.
    pacing.took(0.9)
    assert pacing.lead == pytest.approx(0.9 + 0.25)
    clock.now = window.due - 1.0
    assert pacing.open_window() == window


def heads_read_late(lags: list[float]) -> HeadClock:
    """A clock that read heads 2 s apart, each ``lags[n]`` s after it was made."""
    clock = Clock()
    pacing = HeadClock(0.5, clock)
    for n, lag in enumerate(lags):
        clock.now = 1_000.0 + 2 * n + lag
        pacing.observe(100 + n, 5_000 + 2 * n)
    return pacing


def test_the_earliest_sighting_sets_the_phase() -> None:
    window = heads_read_late([0.9, 0.05, 0.6, 0.3]).next_block()
    assert window is not None and window.due == pytest.approx(1_000.0 + 8 + 0.05)


def test_no_window_without_regular_blocks() -> None:
    clock = Clock()
    pacing = HeadClock(0.5, clock)
    # Blocks mined on demand: one second of chain time each, a few milliseconds apart.
    for n in range(6):
        clock.now = 1_000.0 + 0.02 * n
        pacing.observe(n + 1, 5_000 + n)
    assert pacing.next_block() is None and pacing.wake_in() is None
    # Automine: many blocks in one second of chain time.
    pacing = HeadClock(0.5, clock)
    for n in range(6):
        clock.now = 1_000.0 + 0.5 * n
        pacing.observe(n + 1, 5_000)
    assert pacing.next_block() is None


def test_a_stopped_chain_or_a_reorg_ends_the_prediction() -> None:
    clock = Clock()
    pacing = HeadClock(0.5, clock)
    regular_heads(clock, pacing, 4)
    assert pacing.next_block() is not None
    clock.now += 4.5  # two blocks late: the chain stopped
    assert pacing.next_block() is None
    regular_heads(clock, pacing, 4)
    pacing.observe(101, 5_002)  # back below the last head
    assert pacing.next_block() is None


def test_a_late_first_sighting_gives_no_phase() -> None:
    # The first head read after a start had been there for 1.9 s of its 2-s block: taken as
    # seen when made, it would put the window of every block 1.9 s late.
    window = heads_read_late([1.9, 0.1, 0.1]).next_block()
    assert window is not None and window.due == pytest.approx(1_000.0 + 6 + 0.1)


def test_blocks_read_at_start_give_the_interval_and_the_next_head_the_phase() -> None:
    clock = Clock()
    pacing = HeadClock(0.5, clock)
    pacing.seed([(100 + n, 5_000 + 2 * n) for n in range(7)])
    clock.now = 1_001.3
    pacing.observe(107, 5_014)  # the first head read: made at a moment it cannot tell
    assert pacing.next_block() is None  # no head seen as it came yet
    clock.now = 1_002.1
    pacing.observe(108, 5_016)
    window = pacing.next_block()
    assert window is not None and window.number == 109 and window.interval == 2.0
    assert window.due == pytest.approx(1_004.1)
    # Without the history, two heads are not enough.
    bare = HeadClock(0.5, clock)
    bare.observe(107, 5_014)
    bare.observe(108, 5_016)
    assert bare.next_block() is None


def test_only_the_regular_end_of_the_history_counts() -> None:
    clock = Clock()
    # Automined blocks (one second of chain time, many per second), then 2-s interval mining,
    # as anvil gives them: the tolerance of whole-second timestamps alone would take blocks
    # 91 to 97, with an interval of 1 s.
    automined = [(90 + n, 4_098) for n in range(5)]
    interval = [(95 + n, 4_100 + 2 * n) for n in range(3)]
    pacing = HeadClock(0.5, clock)
    pacing.seed(automined + interval)
    clock.now = 1_000.2
    pacing.observe(98, 4_106)
    clock.now = 1_002.1
    pacing.observe(99, 4_108)
    window = pacing.next_block()
    assert window is not None and window.interval == 2.0 and window.due == pytest.approx(1_004.1)
    # A history of blocks mined on demand only: the clock waits for three heads of its own.
    pacing = HeadClock(0.5, clock)
    pacing.seed(automined)
    regular_heads(clock, pacing, 2)
    assert pacing.next_block() is None
    regular_heads(clock, pacing, 4)
    assert pacing.next_block() is not None


def test_the_history_goes_with_a_reorg_below_it() -> None:
    clock = Clock()
    pacing = HeadClock(0.5, clock)
    pacing.seed([(100 + n, 5_000 + 2 * n) for n in range(7)])
    pacing.observe(107, 5_014)
    clock.now += 2
    pacing.observe(104, 5_100)  # a reorg down to 104: the blocks read are not that chain's
    clock.now += 2
    pacing.observe(105, 5_102)
    assert pacing.next_block() is None


def test_a_submitter_that_starts_on_a_running_chain_has_windows_from_the_next_block(
    tmp_path: Path,
) -> None:
    with Anvil() as node:
        env = make_env(tmp_path, node)  # deployed and onboarded on automine: at once
        try:
            env.rpc("evm_setIntervalMining", 1)  # then a block a second, as a running chain
            first = env.w3.eth.block_number
            while env.w3.eth.block_number < first + 3:
                time.sleep(0.05)
            submitter = env.submitter(confirmations=1)
            submitter.step()
            assert submitter.pacing.seeded and submitter.pacing.next_block() is None
            head = env.w3.eth.block_number
            while env.w3.eth.block_number == head:
                time.sleep(0.02)
            submitter.step()
            window = submitter.pacing.next_block()
            # The history's steady run: the interval blocks, and the last automined one when
            # it came a second or two before them.
            assert window is not None and window.interval == pytest.approx(1.0, abs=0.25)
            assert window.number >= head + 2  # the head after the one it started on, or later
        finally:
            env.store.close()


class Windows(HeadClock):
    """A pacing whose send window is always open, for the block ``number`` the test sets."""

    def __init__(self) -> None:
        super().__init__(0.5)
        self.number = 1

    def observe(self, number: int, timestamp: int) -> None:
        """Heads are not looked at."""

    def next_block(self) -> Window | None:
        """The block the test names, due in a second."""
        return Window(self.number, time.time() + 1, 2.0)

    def open_window(self) -> Window | None:
        """Always open."""
        return self.next_block()


def pipelined(env: Env, **config: object) -> tuple[Submitter, Windows]:
    """A submitter whose windows the test opens, on a chain that mines only when told."""
    env.automine(False)
    submitter = env.submitter(confirmations=1, **config)
    windows = Windows()
    submitter.pacing = windows
    return submitter, windows


def live(env: Env, batch_id: int) -> list[int]:
    """The nonces of the batch's live outbox rows."""
    states = (OutboxState.SIGNED, OutboxState.BROADCAST)
    return [e.nonce for e in env.store.outbox_of_batch(batch_id) if e.state in states]


def in_pool(env: Env, tx_hash: bytes) -> bool:
    """True when the node knows the transaction."""
    return env.rpc("eth_getTransactionByHash", "0x" + tx_hash.hex()) is not None


def settle(env: Env, submitter: Submitter, rounds: int = 6) -> None:
    """Mine and step until nothing is left to anchor."""
    for _ in range(rounds):
        env.mine()
        submitter.step()


def assert_anchored_once(env: Env, ids: list[str]) -> None:
    """Every receipt anchored on its canonical transaction; no root anchored twice."""
    assert_all_anchored_on_canonical_chain(env, ids)
    pairs = anchored_pairs(env)
    assert len(pairs) == len(set(pairs)), "a root was anchored twice"


def test_two_transactions_in_flight_at_consecutive_nonces(env: Env) -> None:
    submitter, windows = pipelined(env)
    first = env.take(2)
    submitter.step()
    (a,) = env.store.outbox_of_batch(1)
    second = env.take(2)
    submitter.step()  # the same window: one transaction a window
    assert env.store.outbox_of_batch(2) == []
    windows.number += 1
    submitter.step()  # the next block's window: batch 2 goes out while batch 1 waits
    (b,) = env.store.outbox_of_batch(2)
    assert b.nonce == a.nonce + 1 and in_pool(env, a.tx_hash) and in_pool(env, b.tx_hash)
    assert submitter.relay_lane.waiting == 2
    env.mine()  # both in one block
    settle(env, submitter)
    assert_anchored_once(env, first + second)
    mined_a = env.w3.eth.get_transaction_receipt(a.tx_hash)  # type: ignore[arg-type]
    mined_b = env.w3.eth.get_transaction_receipt(b.tx_hash)  # type: ignore[arg-type]
    assert mined_a["blockNumber"] == mined_b["blockNumber"]


def test_no_window_keeps_one_transaction_waiting(env: Env) -> None:
    env.automine(False)
    submitter = env.submitter(confirmations=1)
    env.take(2)
    submitter.step()
    env.take(2)
    submitter.step()
    submitter.step()
    assert env.store.outbox_of_batch(2) == []  # on-demand blocks: no prediction, no window
    settle(env, submitter)
    assert env.store.get_batch(2).state == BatchState.ANCHORED  # type: ignore[union-attr]


def test_the_bound_on_transactions_in_flight(env: Env) -> None:
    submitter, windows = pipelined(env, max_in_flight=2)
    ids = env.take(1)
    for _ in range(4):  # four windows, a new batch in each; none mined
        submitter.step()
        windows.number += 1
        ids += env.take(1)
    waiting = [n for batch in range(1, 6) for n in live(env, batch)]
    assert len(waiting) == 2 and submitter.relay_lane.waiting == 2
    assert env.store.batches_in_state(BatchState.FROZEN) != []
    assert submitter.send_window() is None  # no room: the worker closes no batch early
    env.mine()
    for _ in range(4):
        submitter.step()
        windows.number += 1
        env.mine()
    settle(env, submitter)
    assert_anchored_once(env, ids)


def test_lower_transaction_dropped_while_the_second_waits(env: Env) -> None:
    submitter, windows = pipelined(env)
    ids = env.take(2)
    submitter.step()
    windows.number += 1
    ids += env.take(2)
    submitter.step()
    (a,), (b,) = env.store.outbox_of_batch(1), env.store.outbox_of_batch(2)
    env.rpc("anvil_dropTransaction", "0x" + a.tx_hash.hex())
    assert not in_pool(env, a.tx_hash)
    env.mine()  # b cannot be mined without a below it
    submitter.step()  # a's nonce is still free: the same bytes go out again, b is left alone
    assert in_pool(env, a.tx_hash)
    assert [e.tx_hash for e in env.store.outbox_of_batch(2)] == [b.tx_hash]
    settle(env, submitter)
    assert_anchored_once(env, ids)
    assert [e.tx_hash for e in env.store.outbox_of_batch(1)] == [a.tx_hash]


def test_lower_transaction_stuck_is_replaced_the_second_only_waits(env: Env) -> None:
    submitter, windows = pipelined(env, stuck_after=0.001)
    ids = env.take(2)
    submitter.step()
    (a,) = env.store.outbox_of_batch(1)
    windows.number += 1
    ids += env.take(2)
    submitter.step()  # a is stuck: re-priced at its nonce; b goes out above it
    (b,) = env.store.outbox_of_batch(2)
    submitter.step()  # both stuck: the lower one is re-priced again, the upper one only resent
    a_rows = env.store.outbox_of_batch(1)
    assert len(a_rows) == 3 and {e.nonce for e in a_rows} == {a.nonce} and b.nonce == a.nonce + 1
    assert [e.state for e in a_rows[:-1]] == [OutboxState.REPLACED] * 2
    assert a_rows[-1].max_fee_per_gas >= a.max_fee_per_gas * 1.2  # type: ignore[operator]
    assert [e.tx_hash for e in env.store.outbox_of_batch(2)] == [b.tx_hash]
    settle(env, submitter)
    assert_anchored_once(env, ids)
    assert env.store.get_batch(1).tx_hash == a_rows[-1].tx_hash  # type: ignore[union-attr]
    assert env.store.get_batch(2).tx_hash == b.tx_hash  # type: ignore[union-attr]


def test_crash_between_the_two_broadcasts(env: Env) -> None:
    submitter, windows = pipelined(env)
    ids = env.take(2)
    submitter.step()
    windows.number += 1
    ids += env.take(2)
    # The process dies once the second transaction is signed and stored, before it is sent.
    submitter._broadcast = lambda *args, **kwargs: None  # type: ignore[method-assign]
    submitter.step()
    (a,), (b,) = env.store.outbox_of_batch(1), env.store.outbox_of_batch(2)
    assert b.state == OutboxState.SIGNED and not in_pool(env, b.tx_hash)
    # A new process, no window predicted yet: the stored bytes go out, nothing is re-signed.
    fresh = env.submitter(confirmations=1)
    fresh.step()
    assert in_pool(env, a.tx_hash) and in_pool(env, b.tx_hash)
    settle(env, fresh)
    assert_anchored_once(env, ids)
    assert [e.tx_hash for e in env.store.outbox_of_batch(2)] == [b.tx_hash]
    assert [e.nonce for e in env.store.outbox_of_batch(1)] == [a.nonce]
