"""The batcher's cost per digest, and how long it makes a concurrent intake commit wait.

For each backend (SQLite in a temporary directory, PostgreSQL in a temporary schema of the
``test`` database): store ``--digests`` pending receipts of one onboarded body, then time
`anchor.service.batcher.close_batches` until every one is frozen (batches of ``--batch-size``),
wall time and the batcher thread's CPU time, in µs per digest. Beside it, on the same rows put
back to pending, the floor: the raw driver (sqlite3 / psycopg) reading the same pending rows and
writing one batch row and every receipt's salt, leaf and proof (random bytes of the real sizes)
in one transaction per batch, no tree. After each close, the submission's and the anchoring's
marks over the batches it closed (`Store.mark_batches_submitted`, `Store.mark_batches_anchored`:
what a batch's receipts cost after their freeze). Also the tree alone
(`anchor.service.batcher.seal` over the same digests, every proof encoded) and the ratio
close / floor.

While each path runs, a probe thread commits one receipt of another body (not onboarded, so
never batched) every millisecond, as the intake does, and records how long each commit took:
on SQLite that is the time it waited for the database write lock. Its p99 and max are printed.
The two paths alternate in ``--rounds`` rounds so that the noise of a shared machine falls on
both alike. The floor writes with the driver's ``executemany``, the plain way. With
``--busy-threads N``, N threads of pure Python work run beside each path, as the API's request
threads do beside the worker in `anchor up`.

    .venv/bin/python bench/bench_batching.py [--digests 100000 --batch-size 10000]
        [--rounds 2] [--backends sqlite,postgres] [--busy-threads 1]
"""

from __future__ import annotations

import argparse
import hashlib
import math
import secrets
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from backend_names import backend_list

from anchor.service.batcher import close_batches, seal
from anchor.service.intake import submit
from anchor.store import NewKey, Store, open_store
from anchor.store.engine import BUSY_TIMEOUT_MS, CACHE_KIB
from anchor.types import IssuerKind, KeyPurpose

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HOUR = 3600.0
TX = b"\x01" * 32
STORE_PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=FULL",
    "foreign_keys=ON",
    "secure_delete=ON",
    f"cache_size=-{CACHE_KIB}",
    "temp_store=MEMORY",
)
"""The SQLite settings of the store's engine (`anchor.store.engine`), for the raw connections."""
RESET = (
    "UPDATE receipts SET state = 'pending', batch_id = NULL, value_index = NULL, salt = NULL, "
    "leaf = NULL, proof = NULL WHERE issuer_id = ?",
    "DELETE FROM batches",
)
PENDING = (
    "SELECT id, digest FROM receipts WHERE state = 'pending' AND issuer_id = ? "
    "ORDER BY created_at, id LIMIT ?"
)
BATCH = (
    "INSERT INTO batches (root, leaf_count, state, created_at, frozen_at, issuer_id) "
    "VALUES (?, ?, 'frozen', ?, ?, ?) RETURNING id"
)
FILL = (
    "UPDATE receipts SET state = 'batched', batch_id = ?, value_index = ?, salt = ?, leaf = ?, "
    "proof = ?, updated_at = ? WHERE id = ? AND state = 'pending'"
)
PROBE = (
    "INSERT INTO receipts (id, integrator_id, issuer_id, digest, state, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, 'pending', ?, ?)"
)


@dataclass
class Run:
    """The totals of one path over every round."""

    wall: float = 0.0
    cpu: float = 0.0
    waits: list[float] = field(default_factory=list)


class Backend:
    """One database reached two ways: through the store and through the raw driver."""

    def __init__(self, name: str, store: Store, raw: Any, qmark: bool) -> None:
        """``raw`` is a DB-API connection to the same database, in manual-commit mode."""
        self.name, self.store, self.raw, self.qmark = name, store, raw, qmark

    def sql(self, statement: str) -> str:
        """``statement`` in the driver's placeholder style."""
        return statement if self.qmark else statement.replace("?", "%s")

    def now(self) -> object:
        """The current time as the driver stores it (naive UTC text on SQLite)."""
        moment = datetime.now(UTC)
        return str(moment.replace(tzinfo=None)) if self.qmark else moment

    def begin(self, conn: Any) -> None:
        """Open a write transaction as the store does (BEGIN IMMEDIATE on SQLite)."""
        if self.qmark:
            conn.execute("BEGIN IMMEDIATE")

    def reset(self, issuer_id: int) -> None:
        """Put the body's receipts back to pending and drop every batch."""
        self.begin(self.raw)
        cur = self.raw.cursor()
        cur.execute(self.sql(RESET[0]), (issuer_id,))
        cur.execute(RESET[1])
        self.raw.commit()


def fresh_digests(start: int, n: int) -> list[str]:
    """``n`` distinct digests numbered from ``start``."""
    return [hashlib.sha256(f"bench {i}".encode()).hexdigest() for i in range(start, start + n)]


def make_body(store: Store, name: str, *, onboarded: bool) -> tuple[int, int]:
    """A body (onboarded as a chain body or not) and an integrator of it: their ids."""
    keys = [NewKey(p, "0x" + secrets.token_hex(20), f"keys/{p.value}.json") for p in KeyPurpose]
    issuer = store.create_issuer(IssuerKind.OTHER, name, keys).id
    if onboarded:
        store.set_chain_body_id(issuer, issuer)
    return issuer, store.create_integrator(f"bench {name}", issuer).id


@contextmanager
def busy_threads(count: int) -> Iterator[None]:
    """Run ``count`` threads of pure Python work while the block runs, as the API's request
    threads do beside the worker in `anchor up`: they compete with the batcher for the GIL."""
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            pass

    threads = [threading.Thread(target=spin, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join()


@contextmanager
def probe(backend: Backend, connect: Callable[[], Any], ids: tuple[int, int]) -> Iterator[Run]:
    """Commit one receipt of the body ``ids`` (issuer, integrator) every millisecond in a
    thread while the block runs; the yielded run's ``waits`` get each commit's seconds."""
    found = Run()
    stop = threading.Event()

    def loop() -> None:
        conn = connect()  # sqlite3 connections stay in the thread that made them
        issuer, integrator = ids
        sql = backend.sql(PROBE)
        while not stop.is_set():
            started = time.perf_counter()
            backend.begin(conn)
            stamp = backend.now()
            row = (secrets.token_hex(16), integrator, issuer, secrets.token_bytes(32), stamp, stamp)
            conn.cursor().execute(sql, row)
            conn.commit()
            found.waits.append(time.perf_counter() - started)
            time.sleep(0.001)
        conn.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        stop.set()
        thread.join()


def raw_close(backend: Backend, issuer_id: int, size: int, depth: int) -> None:
    """Freeze every pending receipt of the body through the driver: read, insert, update."""
    conn, pending = backend.raw, backend.sql(PENDING)
    if not backend.qmark:
        pending += " FOR UPDATE SKIP LOCKED"
    while True:
        backend.begin(conn)
        cur = conn.cursor()
        cur.execute(pending, (issuer_id, size))
        rows = cur.fetchall()
        if not rows:
            conn.commit()
            return
        stamp = backend.now()
        cur.execute(
            backend.sql(BATCH), (secrets.token_bytes(32), len(rows), stamp, stamp, issuer_id)
        )
        (batch_id,) = cur.fetchone()
        proof = secrets.token_bytes(32 * depth)
        params = [
            (batch_id, i, secrets.token_bytes(32), secrets.token_bytes(32), proof, stamp, rid)
            for i, (rid, _digest) in enumerate(rows)
        ]
        cur.executemany(backend.sql(FILL), params)
        conn.commit()


def timed(path: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds and this thread's CPU seconds taken by ``path()``."""
    wall, cpu = time.perf_counter(), time.thread_time()
    path()
    return time.perf_counter() - wall, time.thread_time() - cpu


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``, 0 when empty."""
    if not values:
        return 0.0
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, math.ceil(q * len(ranked)) - 1)]


def run(backend: Backend, connect: Callable[[], Any], args: argparse.Namespace) -> None:
    """Fill the store, then alternate the two paths for ``args.rounds`` rounds; print a block."""
    store, n, size = backend.store, args.digests, args.batch_size
    issuer, integrator = make_body(store, f"bench {backend.name}", onboarded=True)
    probe_ids = make_body(store, f"probe {backend.name}", onboarded=False)
    for start in range(0, n, 1000):
        submit(store, fresh_digests(start, min(1000, n - start)), integrator)
    depth = max(1, math.ceil(math.log2(min(size, n))))
    digests = [bytes.fromhex(d) for d in fresh_digests(0, n)]
    closed: list[int] = []
    paths: dict[str, Callable[[], object]] = {
        "close_batches": lambda: closed.extend(close_batches(store, size, HOUR)),
        "raw driver": lambda: raw_close(backend, issuer, size, depth),
    }
    # What the batches' receipts cost afterwards: the submission's and the anchoring's store
    # transactions over the batches just closed (one transaction each, as the worker makes).
    moves: dict[str, Callable[[], object]] = {
        "submitted mark": lambda: store.mark_batches_submitted(closed, TX),
        "anchored mark": lambda: store.mark_batches_anchored(closed, TX, 1, TX),
    }
    runs = {name: Run() for name in [*paths, *moves, "seal alone"]}
    for _ in range(args.rounds):
        for name, path in paths.items():
            backend.reset(issuer)
            closed.clear()
            with busy_threads(args.busy_threads), probe(backend, connect, probe_ids) as waits:
                wall, cpu = timed(path)
            runs[name].wall += wall
            runs[name].cpu += cpu
            runs[name].waits += waits.waits
            if store.pending_count_of(issuer):
                raise SystemExit(f"{name} left receipts pending")
            for move, step in moves.items() if closed else ():
                wall, cpu = timed(step)
                runs[move].wall += wall
                runs[move].cpu += cpu
        wall, cpu = timed(
            lambda: [list(seal(digests[i : i + size]).leaves) for i in range(0, n, size)]
        )
        runs["seal alone"].wall += wall
        runs["seal alone"].cpu += cpu
    per = 1e6 / (n * args.rounds)
    for name, got in runs.items():
        probe_note = (
            f"   probe commit p99 {quantile(got.waits, 0.99) * 1e3:7.1f} ms"
            f"  max {max(got.waits, default=0.0) * 1e3:7.1f} ms"
            if got.waits
            else ""
        )
        print(
            f"{backend.name:<10} {name:<14} {got.wall * per:7.1f} µs/digest wall"
            f"  {got.cpu * per:7.1f} µs/digest CPU{probe_note}"
        )
    ratio = runs["close_batches"].wall / runs["raw driver"].wall
    print(f"{backend.name:<10} close_batches / raw driver (wall) {ratio:5.2f}x")


def main() -> None:
    """Run the benchmark on each backend asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digests", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--backends", type=backend_list, default="sqlite,postgres")
    parser.add_argument(
        "--busy-threads", type=int, default=0, help="threads of pure Python work beside it"
    )
    args = parser.parse_args()
    print(
        f"batching {args.digests:,} pending digests in batches of {args.batch_size:,}, "
        f"{args.rounds} rounds, {args.busy_threads} busy threads beside (lower is better)"
    )
    if "sqlite" in args.backends:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "anchor.db"
            store = open_store(f"sqlite:///{path}", migrate=True)

            def connect() -> sqlite3.Connection:
                conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
                for pragma in STORE_PRAGMAS:
                    conn.execute(f"PRAGMA {pragma}")
                return conn

            raw = connect()
            try:
                run(Backend("sqlite", store, raw, qmark=True), connect, args)
            finally:
                raw.close()
                store.close()
    if "postgres" in args.backends:
        schema = f"anchor_bench_{secrets.token_hex(4)}"
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            store = open_store(f"{PG_URL}?options=-csearch_path%3D{schema}", migrate=True)

            def connect_pg() -> psycopg.Connection[Any]:
                return psycopg.connect(f"{PG_DSN} options=-csearch_path={schema}")

            raw_pg = connect_pg()
            try:
                run(Backend("postgresql", store, raw_pg, qmark=False), connect_pg, args)
            finally:
                raw_pg.close()
                store.close()
        finally:
            with psycopg.connect(PG_DSN, autocommit=True) as admin:
                admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
