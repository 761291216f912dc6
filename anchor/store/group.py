"""Group commit: the intake transactions of concurrent requests, committed together.

A one-digest request spends most of its time in its commit (an fsync on SQLite with
``synchronous=FULL`` and on PostgreSQL). `GroupCommit` lets the requests that arrive while a
commit is under way share the next one, with no thread of its own (leader and followers):

1. a request appends its job to the queue, then waits for the *leader* lock;
2. whoever holds the lock takes the queue (at most `MAX_JOBS` jobs, oldest first), runs every
   job in ONE transaction and commits it; only then does it hand each job its result;
3. a request whose job a leader already committed finds it done when it gets the lock, and
   returns at once; otherwise it leads the next group itself.

So each request is still answered only after the commit that holds its rows (the SIGKILL tests
hold), and one commit serves many. When a group's transaction fails for any reason (one job's
Idempotency-Key conflict or race, a database error), nothing of it was committed: every job of
the group then runs again alone, in its own transaction, so that one job's error is its own.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

from anchor.store.errors import StoreError

__all__ = ["MAX_JOBS", "GroupCommit", "group_of"]

#: At most this many requests share one commit (the rest lead or join the next group).
MAX_JOBS = 64

R = TypeVar("R")


@dataclass(eq=False)
class _Job(Generic[R]):
    run: Callable[[Connection], R]
    alone: Callable[[], R]
    done: bool = False
    result: R | None = None
    error: BaseException | None = field(default=None)


class GroupCommit:
    """Runs jobs of concurrent threads in shared transactions; see the module's docstring."""

    def __init__(self, connect: Callable[[], AbstractContextManager[Connection]]) -> None:
        """``connect`` opens one write transaction, committed when its block ends."""
        self._connect = connect
        self._queue: list[_Job[object]] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()
        #: Groups committed and jobs they held, for tests and the benchmark's report.
        self.groups = 0
        self.jobs = 0

    def run(self, job: Callable[[Connection], R], alone: Callable[[], R]) -> R:
        """Run ``job`` in a transaction shared with concurrent callers; return after its commit.

        ``alone`` does the same job in a transaction of its own; it runs when the shared one
        failed, and its exceptions are the caller's.
        """
        entry: _Job[R] = _Job(job, alone)
        with self._queue_lock:
            self._queue.append(entry)  # type: ignore[arg-type]
        with self._leader:
            if not entry.done:
                with self._queue_lock:
                    group, self._queue = self._queue[:MAX_JOBS], self._queue[MAX_JOBS:]
                self._commit(group)
        if entry.error is not None:
            raise entry.error
        return entry.result  # type: ignore[return-value]

    def _commit(self, group: list[_Job[object]]) -> None:
        try:
            try:
                with self._connect() as conn:
                    results = [job.run(conn) for job in group]
            except Exception:  # noqa: BLE001 - each job then meets its own error alone
                for job in group:
                    try:
                        job.result = job.alone()
                    except Exception as e:  # noqa: BLE001 - handed to the job's caller
                        job.error = e
                    job.done = True
                return
            for job, result in zip(group, results, strict=True):
                job.result = result
                job.done = True
            self.groups += 1
            self.jobs += len(group)
        finally:
            for job in group:  # interrupted (KeyboardInterrupt, SystemExit): never leave a waiter
                if not job.done:
                    job.error = StoreError("the intake was interrupted; nothing was committed")
                    job.done = True


_groups: weakref.WeakKeyDictionary[Engine, GroupCommit] = weakref.WeakKeyDictionary()
_groups_guard = threading.Lock()


def group_of(
    engine: Engine, connect: Callable[[], AbstractContextManager[Connection]]
) -> GroupCommit:
    """The one `GroupCommit` of ``engine`` in this process (created with ``connect``)."""
    with _groups_guard:
        group = _groups.get(engine)
        if group is None:
            group = _groups[engine] = GroupCommit(connect)
        return group
