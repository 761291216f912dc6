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
hold), and one commit serves many.

An event loop takes part without a thread of its own per request (`GroupCommit.submit`): it
queues its job with an `asyncio.Future` of its own and awaits it, while one *committer* thread
(started on demand, gone after `COMMITTER_IDLE` seconds without work) leads the groups that
hold such jobs; the futures get their results only after the commit, all those of one group
and one loop in ONE callback handed to the loop (one wake-up of the loop a group, not one a
request). A job whose future was cancelled before its group started (the client went away) is
left out: nothing of it is written, and no one was told it was. When a group's transaction
fails for any reason (one job's Idempotency-Key conflict or race, a database error), nothing
of it was committed: every job of the group then runs again alone, in its own transaction, so
that one job's error is its own.

Jobs may leave rows to the end of their transaction (`Deferred`): the group then writes the rows
of all its jobs together, each statement once (`anchor.store._sql.RowsInsert`: on PostgreSQL one
binary ``COPY`` for the group instead of one insert per request; on SQLite multi-row
``VALUES``), before anything else they deferred and the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

from anchor.store._sql import RowsInsert
from anchor.store.errors import StoreError

__all__ = ["MAX_JOBS", "Deferred", "GroupCommit", "group_of"]

#: At most this many requests share one commit (the rest lead or join the next group).
MAX_JOBS = 64

#: Seconds the committer thread of `GroupCommit.submit` waits for work before it ends.
COMMITTER_IDLE = 2.0

R = TypeVar("R")

_INTERRUPTED = "the intake was interrupted; nothing was committed"

Row = tuple[object, ...]


class Deferred:
    """What the jobs of one transaction leave to its end: rows of INSERT statements, written
    together (each statement once for all its rows, `RowsInsert`, in the order the statements
    were first given), then the steps that need those rows (`after`)."""

    def __init__(self) -> None:
        """Nothing deferred yet."""
        self._rows: dict[RowsInsert, list[Row]] = {}
        self._after: list[Callable[[Connection], None]] = []

    def insert(self, statement: RowsInsert, rows: Sequence[Row]) -> None:
        """Write ``rows`` with ``statement`` at `flush` time."""
        self._rows.setdefault(statement, []).extend(rows)

    def after(self, step: Callable[[Connection], None]) -> None:
        """Run ``step`` at `flush` time, once the deferred rows are written."""
        self._after.append(step)

    def flush(self, conn: Connection) -> None:
        """Write what was deferred, in the connection's transaction; then nothing is."""
        rows, self._rows = self._rows, {}
        after, self._after = self._after, []
        for statement, values in rows.items():
            statement.execute(conn, values)
        for step in after:
            step(conn)


Job = Callable[[Connection, Deferred], R]
"""A job: its statements on the connection, or deferred to the end of the transaction."""


@dataclass(eq=False)
class _Job(Generic[R]):
    run: Job[R]
    alone: Callable[[], R]
    done: bool = False
    answered: bool = False
    result: R | None = None
    error: BaseException | None = field(default=None)
    waiter: asyncio.Future[R] | None = None
    """The future an event loop awaits (`GroupCommit.submit`); None for a thread (`run`)."""
    loop: asyncio.AbstractEventLoop | None = None

    def answer(self, result: R | None = None, error: BaseException | None = None) -> None:
        """Keep the job's outcome (handed over by `_finish_all`)."""
        self.result, self.error, self.answered = result, error, True

    def wanted(self) -> bool:
        """False when the loop's caller gave up (its future cancelled) before the group."""
        return self.waiter is None or not self.waiter.cancelled()


def _settle(jobs: Sequence[_Job[object]]) -> None:
    """On a job's event loop: hand each job's outcome to its future (unless cancelled)."""
    for job in jobs:
        waiter = job.waiter
        if waiter is None or waiter.done():
            continue
        if job.error is not None:
            waiter.set_exception(job.error)
        else:
            waiter.set_result(job.result)


def _finish_all(jobs: Sequence[_Job[object]]) -> None:
    """Mark the jobs done (a waiting thread sees it once it holds the leader lock) and hand
    the outcomes of loop jobs to their loops: one callback a loop for the whole group."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Job[object]]] = {}
    for job in jobs:
        job.done = True
        if job.waiter is not None and job.loop is not None:
            by_loop.setdefault(job.loop, []).append(job)
    for loop, waiting in by_loop.items():
        # a closed loop raises RuntimeError: nobody awaits these futures any more
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, waiting)


class GroupCommit:
    """Runs jobs of concurrent threads in shared transactions; see the module's docstring."""

    def __init__(self, connect: Callable[[], AbstractContextManager[Connection]]) -> None:
        """``connect`` opens one write transaction, committed when its block ends."""
        self._connect = connect
        self._queue: list[_Job[object]] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()
        self._work = threading.Condition(self._queue_lock)
        self._committer: threading.Thread | None = None
        #: Groups committed and jobs they held, for tests and the benchmark's report.
        self.groups = 0
        self.jobs = 0

    def run(self, job: Job[R], alone: Callable[[], R]) -> R:
        """Run ``job`` in a transaction shared with concurrent callers; return after its commit.

        ``alone`` does the same job in a transaction of its own; it runs when the shared one
        failed, and its exceptions are the caller's.
        """
        entry: _Job[R] = _Job(job, alone)
        with self._queue_lock:
            self._queue.append(entry)  # type: ignore[arg-type]
        with self._leader:
            while not entry.done:  # more than MAX_JOBS queued ahead: lead until ours is done
                self._lead()
        if entry.error is not None:
            raise entry.error
        return entry.result  # type: ignore[return-value]

    def submit(self, job: Job[R], alone: Callable[[], R]) -> asyncio.Future[R]:
        """Queue ``job`` for a shared transaction and return at once a future of the running
        event loop (call this on the loop); it gets the result (or the exception) after the
        commit. Cancelling the future before the job's group starts leaves the job out."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[R] = loop.create_future()
        entry: _Job[R] = _Job(job, alone, waiter=waiter, loop=loop)
        with self._queue_lock:
            self._queue.append(entry)  # type: ignore[arg-type]
            self._work.notify()
            if self._committer is None:
                self._committer = threading.Thread(
                    target=self._commit_queued, name="anchor-group-commit", daemon=True
                )
                self._committer.start()
        return waiter

    def _commit_queued(self) -> None:
        """The committer thread: lead groups while the queue holds jobs; end when idle (or on
        an error no job caught: the next `submit` then starts another committer)."""
        try:
            while True:
                with self._queue_lock:
                    if not self._queue and not self._work.wait_for(
                        lambda: bool(self._queue), COMMITTER_IDLE
                    ):
                        self._committer = None
                        return
                with self._leader:
                    self._lead()
        finally:
            with self._queue_lock:
                if self._committer is threading.current_thread():
                    self._committer = None

    def _lead(self) -> None:
        """Commit the oldest queued jobs (at most `MAX_JOBS`) as one group; the leader lock is
        held. Jobs whose future was cancelled are dropped unrun."""
        with self._queue_lock:
            taken, self._queue = self._queue[:MAX_JOBS], self._queue[MAX_JOBS:]
        group = [j for j in taken if j.wanted()]
        for dropped in taken:
            if dropped not in group:
                dropped.done = True
        if group:
            self._commit(group)

    def _commit(self, group: list[_Job[object]]) -> None:
        try:
            try:
                with self._connect() as conn:
                    deferred = Deferred()
                    results = [job.run(conn, deferred) for job in group]
                    deferred.flush(conn)
            except Exception:  # noqa: BLE001 - each job then meets its own error alone
                for job in group:
                    try:
                        job.answer(job.alone())
                    except Exception as e:  # noqa: BLE001 - handed to the job's caller
                        job.answer(error=e)
                return
            self.groups += 1
            self.jobs += len(group)
            for job, result in zip(group, results, strict=True):
                job.answer(result)
        finally:
            for job in group:  # interrupted (KeyboardInterrupt, SystemExit): never leave a waiter
                if not job.answered:
                    job.answer(
                        error=StoreError("the intake was interrupted; nothing was committed")
                    )
            _finish_all(group)


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
