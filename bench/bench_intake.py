"""Digests per second taken durably by `anchor.service.intake.submit`, against the raw driver.

For each backend (SQLite in a temporary directory, PostgreSQL in a temporary schema of the
``test`` database) and each request shape, time `submit` (one transaction per request, commit
before return) and then the same rows inserted straight through the driver (sqlite3 / psycopg
``executemany``, same durability settings, one commit per request). Prints both rates and the
ratio raw / submit, i.e. the cost of validation, SQLAlchemy and the receipt records. The two
paths are interleaved in rounds so that the noise of a shared disk falls on both alike. Both use
``execute`` for one-row requests and ``executemany`` otherwise.

    .venv/bin/python bench/bench_intake.py [--requests 100 --batch 100 --singles 2000]
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from anchor.service.intake import submit
from anchor.store import NewKey, Store, open_store
from anchor.store.engine import BUSY_TIMEOUT_MS
from anchor.store.intake import new_receipt_ids
from anchor.types import IssuerKind, KeyPurpose

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
COLUMNS = "id, integrator_id, digest, idempotency_key, state, created_at, updated_at"
_counter = 0


def fresh_digests(n: int) -> list[str]:
    """``n`` digests never submitted before in this run."""
    global _counter
    start, _counter = _counter, _counter + n
    return [hashlib.sha256(str(i).encode()).hexdigest() for i in range(start, start + n)]


def raw_rows(digests: list[str], integrator_id: int, now: object) -> list[tuple[object, ...]]:
    """The rows `submit` would write, built by hand, with ids made as the store makes them
    (`new_receipt_ids`: the time first; ids drawn at random cost the insert more, and more so
    as the table grows: bench/README.md, session 12)."""
    ids = new_receipt_ids(len(digests))
    return [
        (rid, integrator_id, bytes.fromhex(d), None, "pending", now, now)
        for rid, d in zip(ids, digests, strict=True)
    ]


def time_requests(requests: list[list[str]], one: Callable[[list[str]], object]) -> float:
    """Seconds taken to hand every request of ``requests`` to ``one``."""
    started = time.perf_counter()
    for digests in requests:
        one(digests)
    return time.perf_counter() - started


def compare(
    count: int, size: int, paths: dict[str, Callable[[list[str]], object]], rounds: int = 10
) -> dict[str, float]:
    """Digests per second of each path, interleaved in ``rounds`` so that the noise of a
    shared machine (other processes' fsyncs) falls on both alike."""
    elapsed = dict.fromkeys(paths, 0.0)
    per_round = max(1, count // rounds)
    for _ in range(rounds):
        for name, one in paths.items():
            elapsed[name] += time_requests([fresh_digests(size) for _ in range(per_round)], one)
    return {name: per_round * rounds * size / seconds for name, seconds in elapsed.items()}


def bench_sqlite(path: Path, integrator_id: int) -> Callable[[list[str]], None]:
    """A raw sqlite3 inserter with the store's pragmas, one BEGIN IMMEDIATE/COMMIT per call."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")
    sql = f"INSERT INTO receipts ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"

    def one(digests: list[str]) -> None:
        now = str(datetime.now(UTC).replace(tzinfo=None))
        conn.execute("BEGIN IMMEDIATE")
        rows = raw_rows(digests, integrator_id, now)
        if len(rows) == 1:
            conn.execute(sql, rows[0])
        else:
            conn.executemany(sql, rows)
        conn.execute("COMMIT")

    return one


def bench_pg(schema: str, integrator_id: int) -> Callable[[list[str]], None]:
    """A raw psycopg inserter (default synchronous_commit=on), one commit per call."""
    conn = psycopg.connect(f"{PG_DSN} options=-csearch_path={schema}")
    sql = f"INSERT INTO receipts ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)"

    def one(digests: list[str]) -> None:
        now = datetime.now(UTC)
        with conn.cursor() as cur:
            rows = raw_rows(digests, integrator_id, now)
            if len(rows) == 1:
                cur.execute(sql, rows[0])
            else:
                cur.executemany(sql, rows)
        conn.commit()

    return one


def run(
    name: str, store: Store, raw: Callable[[list[str]], None], args: argparse.Namespace
) -> None:
    """Time both paths for each request shape and print a line per shape."""
    keys = [NewKey(p, "0x" + secrets.token_hex(20), f"keys/{p.value}.json") for p in KeyPurpose]
    body = store.create_issuer(IssuerKind.OTHER, f"Bench {name}", keys).id
    integrator_id = store.create_integrator(f"bench-{name}", body).id
    shapes = [
        (f"{args.requests} x {args.batch}", args.requests, args.batch),
        (f"{args.singles} x 1", args.singles, 1),
    ]
    for label, count, size in shapes:
        rates = compare(
            count, size, {"submit": lambda d: submit(store, d, integrator_id), "raw": raw}
        )
        print(
            f"{name:<10} {label:<12} submit {rates['submit']:>10,.0f}/s"
            f"   raw {rates['raw']:>10,.0f}/s   raw/submit {rates['raw'] / rates['submit']:5.2f}x"
        )


def main() -> None:
    """Run the benchmark on both backends."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--singles", type=int, default=2000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    print("durable intake: digests per second (higher is better); one commit per request")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "anchor.db"
        store = open_store(f"sqlite:///{path}", migrate=True)
        raw_id = store.create_integrator("bench-raw-sqlite").id
        run("sqlite", store, bench_sqlite(path, raw_id), args)
        store.close()

    if args.skip_postgres:
        return
    schema = f"anchor_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        store = open_store(f"{PG_URL}?options=-csearch_path%3D{schema}", migrate=True)
        raw_id = store.create_integrator("bench-raw-pg").id
        run("postgresql", store, bench_pg(schema, raw_id), args)
        store.close()
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
