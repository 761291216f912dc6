"""Group commit of the intake: concurrent requests share one transaction, each answered after it.

Each test holds the group's leader lock while its threads queue their jobs, so that the group
they form is known, then lets them go; every case runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from anchor.service.intake import submit
from anchor.store import IdempotencyConflict, Store, StoreError
from anchor.store.group import GroupCommit, group_of
from anchor.types import ReceiptState
from tests.support.store import digest_hex


def _group(store: Store) -> GroupCommit:
    return group_of(store.engine, store._connection)


def _together(store: Store, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` in threads queued behind the held leader lock; return results or errors."""
    group = _group(store)
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as e:  # noqa: BLE001 - the test inspects it
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    with group._leader:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(group._queue) < len(calls):
            assert time.monotonic() < deadline, "the threads did not queue"
            time.sleep(0.005)
    for t in threads:
        t.join(timeout=30)
    return results


def test_concurrent_requests_share_one_commit(store: Store, integrator_id: int) -> None:
    group = _group(store)
    groups_before, jobs_before = group.groups, group.jobs
    calls = [
        (lambda i=i: submit(store, [digest_hex(i)], integrator_id)) for i in range(20)
    ]  # fmt: skip
    results = _together(store, calls)
    assert group.groups - groups_before == 1
    assert group.jobs - jobs_before == 20
    for i, receipts in enumerate(results):
        assert [r.digest.hex for r in receipts] == [digest_hex(i)]
        stored = store.get_receipt(receipts[0].id)
        assert stored is not None and stored.state == ReceiptState.PENDING


def test_a_conflict_in_a_group_is_its_own_error(store: Store, integrator_id: int) -> None:
    submit(store, [digest_hex(100)], integrator_id, "permit-42")
    calls: list[Callable[[], Any]] = [
        lambda: submit(store, [digest_hex(1)], integrator_id),
        lambda: submit(store, [digest_hex(101)], integrator_id, "permit-42"),  # other digests
        lambda: submit(store, [digest_hex(2)], integrator_id),
    ]
    first, conflict, third = _together(store, calls)
    assert isinstance(conflict, IdempotencyConflict)
    assert store.get_receipt(first[0].id) is not None
    assert store.get_receipt(third[0].id) is not None


def test_one_key_twice_in_a_group_gets_one_answer(store: Store, integrator_id: int) -> None:
    calls = [
        (lambda: submit(store, [digest_hex(7)], integrator_id, "retry-me")) for _ in range(4)
    ]  # fmt: skip
    results = _together(store, calls)
    assert len({tuple(r.id for r in receipts) for receipts in results}) == 1


def test_a_failed_group_commits_nothing_and_each_request_fails_alone(
    store: Store, integrator_id: int
) -> None:
    """The database refuses writes: every request of the group gets a StoreError, none a 202."""
    with store.engine.begin() as conn:
        if store.dialect == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON receipts "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON receipts "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
    calls = [(lambda i=i: submit(store, [digest_hex(i)], integrator_id)) for i in range(3)]
    results = _together(store, calls)
    assert all(isinstance(r, StoreError) for r in results), results
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM receipts")).scalar_one() == 0


def test_an_interrupted_group_leaves_no_waiter_without_an_answer() -> None:
    class Boom(BaseException):
        pass

    def connect() -> Any:
        raise Boom

    group = GroupCommit(connect)
    with pytest.raises(Boom):
        group.run(lambda conn, deferred: 1, lambda: 1)
    # The interrupted leader's job was answered with an error, not left waiting.
    assert group._queue == []
