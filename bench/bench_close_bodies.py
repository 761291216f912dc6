"""A send window's batches: every due body's batch in one store transaction, or one each.

In a send window the worker closes the batch of every body with pending digests at once (20
bodies in `bench_latency.py --bodies 20`), and every millisecond of that is between the
digests' freeze and their transaction's broadcast. For each backend (SQLite in a temporary
directory, PostgreSQL in a temporary schema of the ``test`` database) this stores ``--per-body``
pending receipts for each of ``--bodies`` onboarded bodies, then closes them all, ``--rounds``
times, alternating two ways on the same store:

- ``one transaction``: `anchor.service.batcher.close_batches`, which closes every due body's
  batch in ONE transaction (`Store.close_due_batches`): one commit, one fsync;
- ``one per body`` (the way before it, the peer): `Store.close_due_batch` for each body of
  `Store.backlogs`, a transaction and a commit each.

It prints the median and p90 wall time of a round and the ratio per body / one transaction.

    .venv/bin/python bench/bench_close_bodies.py [--bodies 20 --per-body 5 --rounds 30]
        [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from backend_names import backend_list

from anchor.service.batcher import close_batches, seal
from anchor.service.intake import submit
from anchor.store import NewKey, Store, open_store
from anchor.types import IssuerKind, KeyPurpose

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PEPPER = b"bench pepper, not a secret"


def per_body(store: Store) -> int:
    """The peer: one transaction (and commit) per body's batch."""
    closed = 0
    for backlog in store.backlogs():
        while store.close_due_batch(10_000, 0.001, seal, issuer_id=backlog.issuer_id):
            closed += 1
    return closed


def together(store: Store) -> int:
    """Ours: every due body's batch in one transaction."""
    return len(close_batches(store, 10_000, 0.001))


def make_bodies(store: Store, count: int) -> list[int]:
    """``count`` onboarded bodies, each with an integrator; their integrators' ids."""
    integrators = []
    for n in range(count):
        keys = [
            NewKey(purpose, "0x" + os.urandom(20).hex(), f"keys/{purpose.value}-{n}.json")
            for purpose in KeyPurpose
        ]
        issuer = store.create_issuer(IssuerKind.COMMUNE, f"Commune {n}", keys)
        store.set_chain_body_id(issuer.id, n + 1)
        integrators.append(store.create_integrator(f"Integrator {n}", issuer.id).id)
    return integrators


def run(backend: str, url: str, bodies: int, per: int, rounds: int) -> None:
    store = open_store(url, migrate=True, key_pepper=PEPPER)
    try:
        integrators = make_bodies(store, bodies)
        ways: dict[str, Callable[[Store], int]] = {
            "one per body": per_body,
            "one transaction": together,
        }
        times: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(rounds):
            for name, close in ways.items():
                for integrator in integrators:
                    submit(store, [os.urandom(32).hex() for _ in range(per)], integrator)
                started = time.perf_counter()
                closed = close(store)
                times[name].append(time.perf_counter() - started)
                if closed != bodies:
                    raise SystemExit(f"{name}: closed {closed} batches, expected {bodies}")
        medians = {name: statistics.median(t) for name, t in times.items()}
        for name, t in times.items():
            t.sort()
            p90 = t[min(len(t) - 1, int(0.9 * len(t)))]
            print(
                f"{backend:<9} {bodies:>3} bodies x {per:>3} receipts  {name:<16}"
                f" median {medians[name] * 1000:7.1f} ms  p90 {p90 * 1000:7.1f} ms"
            )
        ratio = medians["one per body"] / medians["one transaction"]
        print(f"{backend:<9} ratio one per body / one transaction: {ratio:.2f}x")
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bodies", type=int, default=20)
    parser.add_argument("--per-body", type=int, default=5, help="pending receipts per body")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--backends", type=backend_list, default="sqlite,postgres")
    args = parser.parse_args()
    for backend in args.backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{Path(tmp) / 'anchor.db'}"
                run(backend, url, args.bodies, args.per_body, args.rounds)
        elif backend == "postgres":
            schema = f"bench_close_{os.getpid()}"
            with psycopg.connect(PG_DSN, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            try:
                url = f"{PG_URL}?options=-csearch_path%3D{schema}"
                run(backend, url, args.bodies, args.per_body, args.rounds)
            finally:
                with psycopg.connect(PG_DSN, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        else:
            raise SystemExit(f"unknown backend {backend!r}: sqlite or postgres")


if __name__ == "__main__":
    main()
