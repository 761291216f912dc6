"""Ways to write many rows through psycopg, side by side: the client CPU and wall time a row.

The store's two bulk writes on PostgreSQL are the intake's insert of a group's receipts and
the batcher's update of a batch's receipts (salt, leaf, proof). This compares, on a scratch
table shaped like ``receipts`` in a fresh schema of the ``test`` database, each request size
in rounds (so that the server's noise falls on all alike), one commit per request:

- insert: pipelined ``executemany`` (the store's way before session 7), one ``INSERT ...
  SELECT FROM unnest(...)`` of binary arrays, and binary ``COPY`` (the store's way now,
  `anchor.store._sql.RowsInsert`);
- update: pipelined ``executemany`` (before), ``UPDATE ... FROM unnest(...)`` of binary arrays
  (now, `anchor.store.batches.fill_receipts`), and ``COPY`` into a temporary table then
  ``UPDATE ... FROM`` it.

The CPU is this process's (psycopg's adaptation, the protocol), which is what the service pays.
Last, with ``--backlog`` receipts pending beside them, the wall time of the ``unnest`` update of
``--rows`` receipts as the planner chooses it (it hashes every pending receipt) and joined
through the primary key (hash and merge joins off for the transaction, the batcher's way).

    .venv/bin/python bench/bench_pg_bulk.py [--rows 5000 --small 100 --rounds 2 --backlog 400000]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import psycopg

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
COLUMNS = "id, integrator_id, issuer_id, digest, idempotency_key, state, created_at, updated_at"
TYPES = ["text", "int4", "int4", "bytea", "text", "text", "timestamptz", "timestamptz"]
NOW = datetime.now(UTC)
BY_PRIMARY_KEY = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"
"""What `anchor.store.batches.fill_receipts` sets before its update."""

Write = Callable[[psycopg.Cursor[tuple[object, ...]], Sequence[tuple[object, ...]]], None]


def insert_executemany(
    cur: psycopg.Cursor[tuple[object, ...]], rows: Sequence[tuple[object, ...]]
) -> None:
    marks = ", ".join(["%s"] * len(TYPES))
    cur.executemany(f"INSERT INTO r ({COLUMNS}) VALUES ({marks})", rows)


def insert_unnest(
    cur: psycopg.Cursor[tuple[object, ...]], rows: Sequence[tuple[object, ...]]
) -> None:
    arrays = ", ".join(f"%b::{t}[]" for t in TYPES)
    cur.execute(
        f"INSERT INTO r ({COLUMNS}) SELECT * FROM unnest({arrays})",
        [list(column) for column in zip(*rows, strict=True)],
    )


def insert_copy(
    cur: psycopg.Cursor[tuple[object, ...]], rows: Sequence[tuple[object, ...]]
) -> None:
    with cur.copy(f"COPY r ({COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(TYPES)
        for row in rows:
            copy.write_row(row)


_SET = "state = %s, batch_id = %s, updated_at = %s, value_index = v.i, salt = v.s, leaf = v.l, "
_SET += "proof = v.p"


def update_executemany(
    cur: psycopg.Cursor[tuple[object, ...]], rows: Sequence[tuple[object, ...]]
) -> None:
    cur.executemany(
        "UPDATE r SET state = %s, batch_id = %s, value_index = %s, salt = %s, leaf = %s, "
        "proof = %s, updated_at = %s WHERE id = %s AND state = %s",
        [("batched", 7, i, s, leaf, p, NOW, rid, "pending") for rid, i, s, leaf, p in rows],
    )
    check(cur, rows)


def update_unnest(
    cur: psycopg.Cursor[tuple[object, ...]], rows: Sequence[tuple[object, ...]]
) -> None:
    arrays = [list(column) for column in zip(*rows, strict=True)]
    cur.execute(
        f"UPDATE r SET {_SET} FROM unnest(%b::text[], %b::int4[], %b::bytea[], %b::bytea[], "
        "%b::bytea[]) AS v(id, i, s, l, p) WHERE r.id = v.id AND r.state = %s",
        ["batched", 7, NOW, *arrays, "pending"],
    )
    check(cur, rows)


def update_temp_copy(
    cur: psycopg.Cursor[tuple[object, ...]], rows: Sequence[tuple[object, ...]]
) -> None:
    cur.execute(
        "CREATE TEMP TABLE stage (id text, i int4, s bytea, l bytea, p bytea) ON COMMIT DROP"
    )
    with cur.copy("COPY stage FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["text", "int4", "bytea", "bytea", "bytea"])
        for row in rows:
            copy.write_row(row)
    cur.execute(
        f"UPDATE r SET {_SET} FROM stage v WHERE r.id = v.id AND r.state = %s",
        ["batched", 7, NOW, "pending"],
    )
    check(cur, rows)


def check(cur: psycopg.Cursor[tuple[object, ...]], rows: Sequence[tuple[object, ...]]) -> None:
    """Every receipt was pending and is now batched (executemany sums the counts)."""
    if cur.rowcount != len(rows):
        raise AssertionError(f"updated {cur.rowcount} of {len(rows)} rows")


def new_rows(n: int) -> list[tuple[object, ...]]:
    return [
        (secrets.token_urlsafe(16), 1, 2, secrets.token_bytes(32), None, "pending", NOW, NOW)
        for _ in range(n)
    ]


def fills(ids: list[str]) -> list[tuple[object, ...]]:
    """A batch's rows for ``ids``: value index, salt, leaf and a 13-sibling proof each."""
    return [
        (rid, i, secrets.token_bytes(32), secrets.token_bytes(32), secrets.token_bytes(416))
        for i, rid in enumerate(ids)
    ]


def timed(
    conn: psycopg.Connection[tuple[object, ...]],
    write: Write,
    requests: list[list[tuple[object, ...]]],
) -> tuple[float, float]:
    """CPU and wall µs a row of ``write`` over ``requests``, one commit each."""
    cpu, wall = time.process_time(), time.perf_counter()
    with conn.cursor() as cur:
        for rows in requests:
            write(cur, rows)
            conn.commit()
    n = sum(len(r) for r in requests)
    return (time.process_time() - cpu) * 1e6 / n, (time.perf_counter() - wall) * 1e6 / n


def backlog_plans(
    conn: psycopg.Connection[tuple[object, ...]], rows: int, backlog: int, rounds: int
) -> tuple[list[float], list[float]]:
    """Wall ms of the unnest update of ``rows`` oldest pending receipts among ``backlog``
    pending, as planned by default and through the primary key, in ``rounds`` rounds each."""
    with conn.cursor() as cur:
        for start in range(0, backlog, 50_000):
            insert_copy(cur, new_rows(min(50_000, backlog - start)))
        cur.execute("ANALYZE r")
        conn.commit()
        chosen: list[float] = []
        by_key: list[float] = []
        for _ in range(rounds):
            for times, setting in ((chosen, None), (by_key, BY_PRIMARY_KEY)):
                cur.execute("SELECT id FROM r WHERE state = 'pending' LIMIT %s", (rows,))
                batch = fills([str(r[0]) for r in cur.fetchall()])
                if setting is not None:
                    cur.execute(setting)
                start_time = time.perf_counter()
                update_unnest(cur, batch)
                times.append((time.perf_counter() - start_time) * 1000)
                conn.rollback()  # the same pending receipts for the other way
    return chosen, by_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000, help="rows of the large request")
    parser.add_argument("--small", type=int, default=100, help="rows of each small request")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--backlog", type=int, default=400_000, help="pending rows beside")
    args = parser.parse_args()
    schema = f"bench_bulk_{secrets.token_hex(4)}"
    with psycopg.connect(PG_DSN) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET search_path = {schema}")
        conn.execute(
            "CREATE TABLE r (id varchar(32) PRIMARY KEY, integrator_id int NOT NULL, "
            "issuer_id int, digest bytea, idempotency_key varchar(255), state varchar(16), "
            "batch_id int, value_index int, salt bytea, leaf bytea, proof bytea, "
            "created_at timestamptz, updated_at timestamptz, erased_at timestamptz)"
        )
        conn.execute("CREATE INDEX ON r (issuer_id, state, created_at)")
        conn.commit()
        try:
            results: dict[str, list[tuple[float, float]]] = {}
            shapes = [(args.rows, 1), (args.small, max(1, args.rows // args.small))]
            inserts = (("executemany", insert_executemany), ("unnest, binary", insert_unnest),
                       ("COPY, binary", insert_copy))  # fmt: skip
            updates = (("executemany", update_executemany), ("unnest, binary", update_unnest),
                       ("temp table + COPY", update_temp_copy))  # fmt: skip
            for _ in range(args.rounds):
                for size, count in shapes:
                    for name, write in inserts:
                        requests = [new_rows(size) for _ in range(count)]
                        label = f"insert {count} x {size}|{name}"
                        results.setdefault(label, []).append(timed(conn, write, requests))
                    for name, update in updates:
                        requests = [new_rows(size) for _ in range(count)]
                        timed(conn, insert_copy, requests)
                        batches = [fills([str(r[0]) for r in rows]) for rows in requests]
                        label = f"update {count} x {size}|{name}"
                        results.setdefault(label, []).append(timed(conn, update, batches))
            backlog = backlog_plans(conn, args.rows, args.backlog, args.rounds)
        finally:
            conn.rollback()
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
            conn.commit()
    print(f"psycopg {psycopg.__version__} ({psycopg.pq.__impl__}); µs a row (each round), lower")
    print("is better; ratio: the best round's CPU over executemany's best, same shape")
    for label, runs in results.items():
        shape, name = label.split("|")
        base = min(c for c, _ in results[f"{shape}|executemany"])
        cpu = "-".join(f"{c:.2f}" for c, _ in runs)
        wall = "-".join(f"{w:.2f}" for _, w in runs)
        ratio = min(c for c, _ in runs) / base
        print(f"{shape:18} {name:18} CPU {cpu:>12}  wall {wall:>12}  ratio {ratio:5.2f}")
    chosen, by_key = backlog
    print(
        f"update of {args.rows:,} among {args.backlog:,} pending, ms: planner's choice "
        f"{'-'.join(f'{t:.0f}' for t in chosen)}, by primary key "
        f"{'-'.join(f'{t:.0f}' for t in by_key)} (ratio of the medians "
        f"{statistics.median(chosen) / statistics.median(by_key):.2f})"
    )


if __name__ == "__main__":
    main()
