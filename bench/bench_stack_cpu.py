"""CPU of one `anchor up` process while it idles, and per proof GET from one or more clients.

Starts `anchor up` (SQLite, or with ``--backend postgres`` a fresh schema of the ``test``
database through ``ANCHOR_DATABASE_URL`` as bench_api_load.py does; its own anvil, 2-s blocks),
makes a body and a key, submits 2,000 digests in requests of 100 (``--per-request``) and waits
until they are anchored, then measures the CPU time of the `anchor up` process (API, worker and
onboarding threads; anvil excluded):

- ``idle``: for ``--seconds`` with no request (what the worker costs when nothing happens);
- ``get``: ``--seconds x 300`` proof GETs of random anchored receipts from ``--clients``
  clients (1: no contention between requests, the cost of one GET itself);
- ``post``: ``--seconds x 300`` one-digest submits (``POST /v1/receipts``) from ``--clients``
  clients (the worker batches them meanwhile: its CPU is counted too);
- ``mixed``: the proof GETs of ``get`` from ``--clients`` clients while another process (its
  own GIL: the clients do not slow each other) keeps ``--clients`` clients submitting one
  digest each; the GETs' latency under the submit load, and the load's own.

Run it under py-spy to see where the time goes: it prints the process id before measuring
(``py-spy record --gil -f raw -o out.txt --pid PID --duration 10``).

    .venv/bin/python bench/bench_stack_cpu.py idle --seconds 25
    .venv/bin/python bench/bench_stack_cpu.py get --seconds 4 --clients 1
    .venv/bin/python bench/bench_stack_cpu.py get --seconds 4 --clients 1 --backend postgres
    .venv/bin/python bench/bench_stack_cpu.py post --seconds 4 --clients 8
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_api_load as b  # the sibling bench's helpers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("idle", "get", "post", "mixed"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--per-request", type=int, default=100, help="digests per submit of the 2,000 (1: many "
        "small batches, as after bench_api_load's 1/request mode)",
    )  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        env = dict(os.environ) | {
            "ANCHOR_API_RATE_PER_SECOND": b.RATE,
            "ANCHOR_API_RATE_BURST": b.RATE,
            "ANCHOR_DATA_DIR": str(data),
        }
        env.pop("ANCHOR_DATABASE_URL", None)
        db_url = f"sqlite:///{(data / 'anchor.db').resolve()}"
        schema = None
        if args.backend == "postgres":
            schema, db_url = _postgres_schema(env, Path(tmp))
        port, chain_port = b.free_port(), b.free_port()
        cmd = [b.ANCHOR, "up", "--data-dir", str(data), "--port", str(port)]
        cmd += ["--chain-port", str(chain_port), "--block-time", "2"]
        cmd += ["--internal-port", str(b.free_port())]  # not --port + 1: it may be taken
        api = b.Proc("anchor up", cmd, env, Path(tmp) / "up.log")
        try:
            base = f"http://127.0.0.1:{port}"
            api.wait_ready(base + "/healthz")
            run = [b.ANCHOR, "issuers", "add", "Bench body", "--kind", "other"]
            subprocess.run(run, env=env, capture_output=True, check=True)
            run = [b.ANCHOR, "keys", "create", "--issuer", "1", "--new-integrator", "bench"]
            run += ["-s", "submit", "-s", "read", "--json"]
            made = subprocess.run(run, env=env, capture_output=True, text=True, check=True)
            key = json.loads(made.stdout)["key"]
            bodies = b.digest_bodies(2000, args.per_request)
            paths = ["/v1/receipts"] * len(bodies)
            load = b.run_load(base, key, "POST", paths, bodies, 20, 202, True)
            ids = b.receipt_ids(load)
            b.wait_anchored(db_url, load.first_submit, 300)
            print(f"anchor up pid {api.p.pid}; 2,000 digests anchored", flush=True)
            time.sleep(3)  # the anchoring's last steps
            c0, t0 = b.cpu_seconds(api.p.pid), time.monotonic()
            if args.mode == "idle":
                time.sleep(args.seconds)
                cpu = b.cpu_seconds(api.p.pid) - c0
                print(f"idle {time.monotonic() - t0:.1f} s: {cpu:.2f} CPU-s")
                return
            count = int(args.seconds * 300)
            if args.mode == "mixed":
                mixed(base, key, ids, count, args.clients)
                return
            if args.mode == "post":
                singles = b.digest_bodies(count, 1)
                got = b.run_load(base, key, "POST", ["/v1/receipts"] * count, singles,
                                 args.clients, 202)  # fmt: skip
                what = "one-digest POSTs"
            else:
                gets = [f"/v1/receipts/{random.choice(ids)}" for _ in range(count)]
                got = b.run_load(base, key, "GET", gets, None, args.clients, 200)
                what = "proof GETs"
            cpu = b.cpu_seconds(api.p.pid) - c0
            print(
                f"{count:,} {what}, {args.clients} client(s): {got.rps:,.0f}/s, "
                f"p50 {got.pct(0.5):.1f} ms, p99 {got.pct(0.99):.1f} ms, "
                f"{cpu * 1000 / count:.2f} ms CPU each; non-2xx: "
                f"{b.fmt_status(got.statuses, 202 if args.mode == 'post' else 200)}"
            )
        finally:
            api.stop()
            if schema:
                import psycopg

                with psycopg.connect(b.PG_DSN, autocommit=True) as c:
                    c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _postgres_schema(env: dict[str, str], tmp: Path) -> tuple[str, str]:
    """A fresh schema of the ``test`` database for `anchor up` (``ANCHOR_DATABASE_URL`` and an
    idempotency pepper set in ``env``), as bench_api_load.py makes it: (schema, its URL)."""
    import psycopg

    schema = f"bench_cpu_{secrets.token_hex(4)}"
    with psycopg.connect(b.PG_DSN, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    db_url = f"{b.PG_URL}?options=-csearch_path%3D{schema}"
    env["ANCHOR_DATABASE_URL"] = db_url
    pepper = tmp / "pepper"
    pepper.write_bytes(secrets.token_bytes(32))
    pepper.chmod(0o600)
    env["ANCHOR_IDEMPOTENCY_PEPPER_FILE"] = str(pepper)
    return schema, db_url


def _submit_until(base: str, key: str, clients: int, stop: Any, out: Any) -> None:
    """In a child process: one-digest submits from ``clients`` clients until ``stop`` is set;
    then put (requests, p50 ms, p99 ms, non-2xx) on ``out``."""
    loads = []
    while not stop.is_set():
        bodies = b.digest_bodies(clients * 20, 1)
        loads.append(b.run_load(base, key, "POST", ["/v1/receipts"] * len(bodies), bodies,
                                clients, 202))  # fmt: skip
    merged = b.Load(latencies=[x for load in loads for x in load.latencies])
    bad: Counter[int] = sum((load.statuses for load in loads), Counter())
    count = len(merged.latencies)
    out.put((count, merged.pct(0.5), merged.pct(0.99), b.fmt_status(bad, 202)))


def mixed(base: str, key: str, ids: list[str], count: int, clients: int) -> None:
    """``count`` proof GETs from ``clients`` clients while a child process submits."""
    context = multiprocessing.get_context("fork")
    stop, out = context.Event(), context.Queue()
    child = context.Process(target=_submit_until, args=(base, key, clients, stop, out))
    child.start()
    try:
        time.sleep(1.0)  # the submit load is running
        gets = [f"/v1/receipts/{random.choice(ids)}" for _ in range(count)]
        got = b.run_load(base, key, "GET", gets, None, clients, 200)
    finally:
        stop.set()
    posts, p50, p99, bad = out.get(timeout=120)
    child.join(timeout=30)
    print(
        f"{count:,} proof GETs from {clients} clients during a submit load: {got.rps:,.0f}/s, "
        f"p50 {got.pct(0.5):.1f} ms, p99 {got.pct(0.99):.1f} ms, non-200: "
        f"{b.fmt_status(got.statuses, 200)}; the load: {posts:,} one-digest POSTs from "
        f"{clients} clients, p50 {p50:.1f} ms, p99 {p99:.1f} ms, non-2xx: {bad}"
    )


if __name__ == "__main__":
    main()
