"""`GroupCommit.submit`: the event loop's way into the group commit (`POST /v1/receipts`).

A future gets its receipts only after their commit; concurrent loop requests share commits, and
a group's answers reach the loop in one callback; a future cancelled before its group starts
leaves nothing written; one request's error is its own; the committer thread ends when idle,
and survives a loop that closed while its job waited. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from sqlalchemy import text

from anchor.service.intake import submit, submit_later
from anchor.store import IdempotencyConflict, Receipt, Store, StoreError
from anchor.store.group import MAX_JOBS, GroupCommit, group_of
from anchor.types import Digest, ReceiptState
from tests.support.store import digest_hex


def _rows(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM receipts")).scalar_one())


def _body(store: Store, integrator_id: int) -> int:
    body = store.get_integrator(integrator_id).issuer_id  # type: ignore[union-attr]
    assert body is not None
    return body


def test_loop_requests_share_commits_and_are_answered_after_them(
    store: Store, integrator_id: int
) -> None:
    group = group_of(store.engine, store._connection)
    body = _body(store, integrator_id)
    before = group.groups, group.jobs
    count = MAX_JOBS * 2 + 7  # more than one group's worth: queued jobs wait for the next

    async def many() -> list[list[str]]:
        with group._leader:  # every request queued before the first commit
            futures = [
                submit_later(store, [digest_hex(i)], integrator_id, None, issuer_id=body)
                for i in range(count)
            ]
        loop = asyncio.get_running_loop()
        handed = loop.call_soon_threadsafe

        def counted(*args: Any, **kwargs: Any) -> Any:
            wakeups.append(threading.current_thread().name)
            return handed(*args, **kwargs)

        loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
        done = await asyncio.gather(*futures)
        return [[r.id for r in receipts] for receipts in done]

    wakeups: list[str] = []
    answered = asyncio.run(many())
    assert len({ids[0] for ids in answered}) == count
    assert _rows(store) == count
    groups, jobs = group.groups - before[0], group.jobs - before[1]
    assert jobs == count and groups <= 4  # 64 per group at most, not one commit each
    assert wakeups == ["anchor-group-commit"] * groups  # one callback a group, not a request
    for ids in answered:
        found = store.get_receipt(ids[0])
        assert found is not None and found.state is ReceiptState.PENDING


def test_a_request_cancelled_before_its_commit_writes_nothing(
    store: Store, integrator_id: int
) -> None:
    group = group_of(store.engine, store._connection)
    body = _body(store, integrator_id)

    async def one_gone() -> list[Receipt]:
        with group._leader:  # the committer cannot start the group yet
            kept = submit_later(store, [digest_hex(1)], integrator_id, None, issuer_id=body)
            gone = submit_later(store, [digest_hex(2)], integrator_id, None, issuer_id=body)
            assert gone.cancel()  # the client went away before the commit
        try:
            return await kept
        finally:
            assert gone.cancelled()

    [receipt] = asyncio.run(one_gone())
    assert _rows(store) == 1 and store.get_receipt(receipt.id) is not None


def test_one_requests_conflict_is_its_own(store: Store, integrator_id: int) -> None:
    group = group_of(store.engine, store._connection)
    body = _body(store, integrator_id)
    submit(store, [digest_hex(1)], integrator_id, "order-1")

    async def two() -> list[Receipt]:
        with group._leader:
            conflict = submit_later(
                store, [digest_hex(9)], integrator_id, "order-1", issuer_id=body
            )
            fine = submit_later(store, [digest_hex(3)], integrator_id, None, issuer_id=body)
        with pytest.raises(IdempotencyConflict):
            await conflict
        return await fine

    assert asyncio.run(two())[0].digest == Digest.from_hex(digest_hex(3))
    assert _rows(store) == 2


def test_the_committer_thread_ends_when_idle(
    store: Store, integrator_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("anchor.store.group.COMMITTER_IDLE", 0.1)
    group = group_of(store.engine, store._connection)
    body = _body(store, integrator_id)

    async def take(i: int) -> list[Receipt]:
        return await submit_later(store, [digest_hex(i)], integrator_id, None, issuer_id=body)

    assert asyncio.run(take(4))
    deadline = time.monotonic() + 5
    while group._committer is not None:
        assert time.monotonic() < deadline, "the committer thread did not end"
        time.sleep(0.02)
    assert asyncio.run(take(5))  # a new committer starts on demand


def test_a_loop_closed_while_its_job_waits_leaves_the_committer_working(
    store: Store, integrator_id: int
) -> None:
    """The loop's answer cannot be delivered (the loop is gone): the committer carries on, and
    the next request, from another loop, is committed and answered."""
    group = group_of(store.engine, store._connection)
    body = _body(store, integrator_id)

    async def queue_and_leave() -> None:
        submit_later(store, [digest_hex(6)], integrator_id, None, issuer_id=body)

    with group._leader:  # the group starts only once that loop is closed
        asyncio.run(queue_and_leave())

    async def take() -> list[Receipt]:
        return await submit_later(store, [digest_hex(7)], integrator_id, None, issuer_id=body)

    [receipt] = asyncio.run(take())
    assert receipt.digest == Digest.from_hex(digest_hex(7))
    assert _rows(store) == 2  # the first job was taken when queued: committed, if unanswered


# The committer thread dies of the interruption (as it would of SystemExit): that is the case.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_interrupted_committer_leaves_no_future_unanswered_and_is_replaced() -> None:
    class Boom(BaseException):
        pass

    def connect() -> Any:
        raise Boom  # the committer's transaction is interrupted, as by SystemExit

    group = GroupCommit(connect)

    async def one(value: int) -> int:
        return await asyncio.wait_for(
            group.submit(lambda conn, deferred: value, lambda: value), timeout=10
        )

    with pytest.raises(StoreError, match="interrupted"):
        asyncio.run(one(1))  # answered, never left waiting
    deadline = time.monotonic() + 5
    while group._committer is not None:  # the dead committer is forgotten
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with pytest.raises(StoreError):
        asyncio.run(one(2))  # a new committer took it (and met the same interruption)
