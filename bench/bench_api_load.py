"""Load on the HTTP API as `anchor up` runs it, against an empty FastAPI route on the same uvicorn.

For each backend (SQLite in a temporary data directory; PostgreSQL in a fresh schema of the
``test`` database, through ``ANCHOR_DATABASE_URL``, which `anchor up` honours since it only
overrides the data directory, the chain and the batch age), starts ``anchor up`` in a subprocess
(127.0.0.1, free ports, ``--block-time 2``) with the per-key rate limit raised through
``ANCHOR_API_RATE_PER_SECOND`` / ``ANCHOR_API_RATE_BURST``, makes an API key with
``anchor keys create``, then pushes digests through ``POST /v1/receipts`` from 50 concurrent
clients (threads, each reusing one keep-alive connection) in two modes: 100 digests per request,
and one digest per request (a smaller count by default). The server's CPU is read after the
load (the run's own) and once no receipt is pending any more (``to proof``: the intake AND the
worker's batching of those digests, up to every proof stored, as the goal counts them). After
each mode it waits until every receipt is anchored (timed from the first submit, polling the
store), fetches the proof of a random sample of receipts (``GET /v1/receipts/{id}``, same 50
clients), and reads the service's peak RSS (psutil if installed, else ``VmHWM`` in /proc).

Alongside, in the same run, a tiny FastAPI app whose ``POST /empty`` (a sync route, like the
submit route) returns ``{}`` runs in its own subprocess under ``uvicorn.run`` with the same
arguments as `anchor up` uses; it gets the same request bodies from the same 50 clients just
before each mode, so the ratios show the API's own cost (validation, auth, store commit).

    .venv/bin/python bench/bench_api_load.py --quick               # 5,000 digests, smoke run
    .venv/bin/python bench/bench_api_load.py                       # 100,000 (+10,000 singles)
    .venv/bin/python bench/bench_api_load.py --digests 20000 --single-digests 5000 \\
        --backends sqlite,postgres

Latencies are measured by the client, so they include its own scheduling on a shared machine.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx  # readiness probes only
from backend_names import backend_list

from anchor.store.records import FOLLOWS_BATCH

BIN = Path(sys.executable).parent
ANCHOR = str(BIN / "anchor")
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RATE = "1000000000"  # requests per second and burst per key: the limiter never answers 429
UNFINISHED = ("pending", "batched", "submitted")
STATE_COUNTS = (
    "SELECT CASE WHEN b.state = 'anchored' AND r.state IN "
    f"({', '.join(repr(state.value) for state in FOLLOWS_BATCH)}) "
    "THEN 'anchored' ELSE r.state END AS s, COUNT(*) "
    "FROM receipts r LEFT JOIN batches b ON b.id = r.batch_id GROUP BY s"
)
"""The receipts by state as far as the wait needs the store's reading
(`anchor.store.records.receipt_state`): a row in a batch reads as anchored once its batch is
(the row is not rewritten); any other row counts under its stored state."""


def serve_empty(port: int) -> None:
    """The reference server: an empty route, served exactly as `anchor up` serves the API."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/empty")
    def empty() -> dict[str, Any]:
        return {}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mib(pid: int) -> float | None:
    """Peak resident set size of ``pid`` so far, in MiB."""
    try:
        import psutil  # type: ignore[import-untyped]

        info = psutil.Process(pid).memory_info()
        return float(getattr(info, "peak_wset", 0) or info.rss) / 2**20  # rss: no peak on Linux
    except ImportError:
        pass
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (all its threads, not its children), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """User + system CPU time of every process named ``postgres`` on this machine, with the
    children they reaped (a backend that ended since counts in its postmaster's total), in
    seconds: the database server's side of a run, which `cpu_seconds` of our processes leaves
    out. Other clients of the same server count too; 0.0 where /proc is unreadable."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            name, _, rest = stat.read_text().partition(") ")
            if name.endswith("(postgres"):
                fields = rest.split()
                total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def tree_pids(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's worker processes under `anchor serve`)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return out


def tree_cpu_seconds(roots: list[int], seen: dict[int, float] | None = None) -> float:
    """CPU seconds of every process in the trees at ``roots``.

    With ``seen`` (kept by the caller between calls), a process that exited since an earlier
    call still counts with its last reading, so that the total never goes down when uvicorn
    replaces a worker process during a run (its CPU after that reading is not counted).
    """
    seen = {} if seen is None else seen
    for root in roots:
        for p in tree_pids(root):
            with contextlib.suppress(OSError):
                seen[p] = cpu_seconds(p)
    return sum(seen.values())


class Proc:
    """A server subprocess in its own session, stopped (with its children) on `stop`."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self.out = log.open("wb")
        self.p = subprocess.Popen(
            cmd, env=env, stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def tail(self, n: int = 25) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def wait_ready(self, url: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.p.returncode}):\n{self.tail()}")
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)  # anchor up: stops the worker, saves anvil state
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        # leftovers of its own session only (anvil, if its parent died)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.p.pid, signal.SIGKILL)
        self.out.close()


@dataclass
class Load:
    """One load run: per-request latencies, status counts and response bodies."""

    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    bodies: list[bytes] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    first_submit: float = 0.0

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall if self.wall else float("nan")


def run_load(
    base: str,
    key: str | None,
    method: str,
    paths: list[str],
    bodies: list[bytes] | None,
    clients: int,
    ok: int,
    keep: bool = False,
) -> Load:
    """Send one request per path (with the matching body) from ``clients`` threads.

    Each thread keeps one HTTP/1.1 connection (``http.client``) open and reuses it. Threads,
    not ``httpx.AsyncClient``: with 50 concurrent requests httpx's async pool was the bottleneck
    (about 90 req/s against the empty route, p99 2.8 s, where these threads get about 700).
    """
    out = Load()
    host, port = base.removeprefix("http://").split(":")
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    jobs = iter(range(len(paths)))
    lock = threading.Lock()

    def one_client() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        latencies, statuses, kept, errors = [], Counter[int](), [], []
        while True:
            with lock:
                i = next(jobs, None)
            if i is None:
                break
            t0 = time.perf_counter()
            try:
                body = bodies[i] if bodies else None
                conn.request(method, paths[i], body=body, headers=headers)
                r = conn.getresponse()
                content = r.read()
            except (OSError, http.client.HTTPException) as e:
                statuses[0] += 1
                errors.append(f"{type(e).__name__}: {e}")
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=120)
                continue
            latencies.append(time.perf_counter() - t0)
            statuses[r.status] += 1
            if r.status != ok:
                errors.append(f"{r.status}: {content[:200].decode(errors='replace')}")
            elif keep:
                kept.append(content)
        conn.close()
        with lock:
            out.latencies += latencies
            out.statuses.update(statuses)
            out.bodies += kept
            out.errors += errors[: 5 - len(out.errors)]

    threads = [threading.Thread(target=one_client) for _ in range(clients)]
    out.first_submit = time.time()
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.wall = time.perf_counter() - t0
    return out


def digest_bodies(n_digests: int, per_request: int) -> list[bytes]:
    out = []
    for start in range(0, n_digests, per_request):
        k = min(per_request, n_digests - start)
        out.append(json.dumps({"digests": [secrets.token_hex(32) for _ in range(k)]}).encode())
    return out


def wait_anchored(db_url: str, since: float, timeout: float) -> tuple[float, dict[str, int]]:
    """Poll the store until no receipt is pending, batched or submitted; seconds since ``since``."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    last_print = time.monotonic()
    try:
        while True:
            with engine.connect() as c:
                counts = {s: n for s, n in c.execute(text(STATE_COUNTS))}
            now = time.time()
            if not any(counts.get(s) for s in UNFINISHED):
                return now - since, counts
            if now - since > timeout:
                raise TimeoutError(f"not all anchored after {timeout:.0f} s: {counts}")
            if time.monotonic() - last_print > 20:
                print(f"      ... {now - since:5.0f} s: {counts}", flush=True)
                last_print = time.monotonic()
            time.sleep(0.5)
    finally:
        engine.dispose()


def wait_none_pending(db_url: str, timeout: float) -> None:
    """Poll the store (every 50 ms) until no receipt is pending: every digest has its batch
    and its stored proof. Raise TimeoutError after ``timeout`` seconds."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    deadline = time.monotonic() + timeout
    query = text("SELECT 1 FROM receipts WHERE state = 'pending' LIMIT 1")
    try:
        with engine.connect() as c:
            while c.execute(query).first() is not None:
                c.rollback()  # a fresh snapshot for the next poll
                if time.monotonic() > deadline:
                    raise TimeoutError(f"receipts still pending after {timeout:.0f} s")
                time.sleep(0.05)
    finally:
        engine.dispose()


def receipt_ids(load: Load) -> list[str]:
    return [r["id"] for b in load.bodies for r in json.loads(b)["receipts"]]


def fmt_status(c: Counter[int], ok: int) -> str:
    bad = {k: v for k, v in sorted(c.items()) if k != ok}
    return "none" if not bad else ", ".join(f"{v}x{k or 'conn'}" for k, v in bad.items())


def bench_backend(
    backend: str, args: argparse.Namespace, tmp: Path, rows: list[dict[str, Any]]
) -> None:
    data_dir = tmp / f"data-{backend}"
    env = dict(os.environ)
    env.pop("ANCHOR_DATABASE_URL", None)
    env |= {
        "ANCHOR_API_RATE_PER_SECOND": RATE,
        "ANCHOR_API_RATE_BURST": RATE,
        "ANCHOR_DATA_DIR": str(data_dir),
    }
    schema = None
    if backend == "postgres":
        import psycopg

        schema = f"bench_api_{secrets.token_hex(4)}"
        with psycopg.connect(PG_DSN, autocommit=True) as c:
            c.execute(f'CREATE SCHEMA "{schema}"')
        db_url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        env["ANCHOR_DATABASE_URL"] = db_url
        # a PostgreSQL store keeps Idempotency-Keys as keyed hashes: every process needs a pepper
        pepper = tmp / f"pepper-{backend}"
        pepper.write_bytes(secrets.token_bytes(32))
        pepper.chmod(0o600)
        env["ANCHOR_IDEMPOTENCY_PEPPER_FILE"] = str(pepper)
    else:
        data_dir.mkdir(parents=True)
        db_url = f"sqlite:///{(data_dir / 'anchor.db').resolve()}"
    procs: list[Proc] = []
    try:
        port, chain_port, empty_port = free_port(), free_port(), free_port()
        cmd = [ANCHOR, "up", "--data-dir", str(data_dir), "--port", str(port)]
        cmd += ["--chain-port", str(chain_port), "--block-time", "2"]
        cmd += ["--internal-port", str(free_port())]  # not --port + 1: it may be taken
        api = Proc("anchor up", cmd, env, tmp / f"up-{backend}.log")
        procs.append(api)
        empty_cmd = [sys.executable, __file__, "--serve-empty", str(empty_port)]
        empty = Proc("empty", empty_cmd, env, tmp / f"empty-{backend}.log")
        procs.append(empty)
        base, empty_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{empty_port}"
        api.wait_ready(base + "/healthz")
        empty.wait_ready(empty_base + "/docs")
        subprocess.run(
            [ANCHOR, "issuers", "add", "Bench body", "--kind", "other"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        keys = subprocess.run(
            [
                ANCHOR,
                "keys",
                "create",
                "--issuer",
                "1",
                "--new-integrator",
                "bench",
                "-s",
                "submit",
                "-s",
                "read",
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        key = json.loads(keys.stdout)["key"]
        print(f"\n== {backend}: anchor up on :{port} (pid {api.p.pid}), empty on :{empty_port}")
        up_cpu = functools.partial(cpu_seconds, api.p.pid)  # not its child anvil
        run_modes(backend, "up", base, up_cpu, api, empty_base, empty, key, db_url, args, rows)
        if backend != "postgres" or not args.workers:
            return
        # `anchor serve --workers N` on the same PostgreSQL schema; the worker of `anchor up`
        # (in the same process as its own, idle, API) batches and anchors. Rate limits in Redis.
        deployment = json.loads((data_dir / "deployment.json").read_text())
        serve_env = env | {
            "ANCHOR_RPC_URLS": f"http://127.0.0.1:{chain_port}",
            "ANCHOR_CHAIN_ID": "31337",
            "ANCHOR_REGISTRY_ADDRESS": deployment["address"],
            "ANCHOR_CONFIRMATIONS": "1",
            "ANCHOR_REDIS_URL": args.redis_url,
            "ANCHOR_API_LIMIT_KEY_PREFIX": f"bench-{secrets.token_hex(4)}",
        }
        for n in args.workers:
            serve_port = free_port()
            serve_env["ANCHOR_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{serve_port}"
            serve_cmd = [ANCHOR, "serve", "--port", str(serve_port), "--workers", str(n)]
            serve = Proc(f"anchor serve x{n}", serve_cmd, serve_env, tmp / f"serve-{n}.log")
            try:
                serve_base = f"http://127.0.0.1:{serve_port}"
                serve.wait_ready(serve_base + "/healthz")
                time.sleep(2)  # every uvicorn worker up, not only the first
                print(f"   anchor serve --workers {n} on :{serve_port} (pid {serve.p.pid})")

                readings: dict[int, float] = {}  # this serve's processes, kept between calls

                def serve_cpu(serve: Proc = serve, seen: dict[int, float] = readings) -> float:
                    return tree_cpu_seconds([serve.p.pid], seen) + cpu_seconds(api.p.pid)

                server = f"serve x{n}"
                run_modes(
                    backend, server, serve_base, serve_cpu, serve, empty_base, empty, key,
                    db_url, args, rows,
                )  # fmt: skip
            finally:
                serve.stop()
    finally:
        for proc in reversed(procs):
            proc.stop()
        if schema:
            import psycopg

            with psycopg.connect(PG_DSN, autocommit=True) as c:
                c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def run_modes(
    backend: str,
    server: str,
    base: str,
    server_cpu: Callable[[], float],
    server_proc: Proc,
    empty_base: str,
    empty: Proc,
    key: str,
    db_url: str,
    args: argparse.Namespace,
    rows: list[dict[str, Any]],
) -> None:
    """The 100-digest and 1-digest submit loads on ``base``, then proof GETs; one row each.

    ``server_cpu``: CPU seconds so far of the API processes and the worker (anvil excluded).
    """
    for mode, n, per in (
        ("100/request", args.digests, args.batch),
        ("1/request", args.single_digests, 1),
    ):
        bodies = digest_bodies(n, per)
        warm = digest_bodies(args.clients, 1)
        warm_paths = ["/v1/receipts"] * len(warm)
        run_load(empty_base, None, "POST", ["/empty"] * len(warm), warm, args.clients, 200)
        run_load(base, key, "POST", warm_paths, warm, args.clients, 202)
        c0 = cpu_seconds(empty.p.pid)
        e = run_load(empty_base, None, "POST", ["/empty"] * len(bodies), bodies, args.clients, 200)
        e_cpu = cpu_seconds(empty.p.pid) - c0
        paths = ["/v1/receipts"] * len(bodies)
        c0, d0 = server_cpu(), postgres_cpu_seconds()
        s = run_load(base, key, "POST", paths, bodies, args.clients, 202, True)
        s_cpu, d_cpu = server_cpu() - c0, postgres_cpu_seconds() - d0
        wait_none_pending(db_url, args.anchor_timeout)
        to_proof_cpu, d_proof_cpu = server_cpu() - c0, postgres_cpu_seconds() - d0
        ids = receipt_ids(s)
        print(
            f"   {mode}: {len(ids):,} digests accepted in {s.wall:.1f} s "
            f"({len(ids) / s.wall:,.0f}/s), {len(bodies):,} requests; non-202: "
            f"{fmt_status(s.statuses, 202)}; empty route non-200: "
            f"{fmt_status(e.statuses, 200)}",
            flush=True,
        )
        for err in s.errors:
            print(f"      error: {err}")
        anchored_after, counts = wait_anchored(db_url, s.first_submit, args.anchor_timeout)
        print(f"      all anchored {anchored_after:.1f} s after the first submit: {counts}")
        sample = random.sample(ids, min(args.proof_sample, len(ids)))
        c0 = server_cpu()
        p = run_load(
            base, key, "GET", [f"/v1/receipts/{i}" for i in sample], None, args.clients, 200
        )
        p_cpu = server_cpu() - c0
        if p.errors:
            print(f"      proof fetch errors: {p.errors}")
        rows.append(
            {
                "backend": backend,
                "server": server,
                "mode": mode,
                "requests": len(bodies),
                "digests": len(ids),
                "dps": len(ids) / s.wall,
                "rps": s.rps,
                "p50": s.pct(0.5),
                "p99": s.pct(0.99),
                "e_rps": e.rps,
                "e_p50": e.pct(0.5),
                "e_p99": e.pct(0.99),
                "cpu": s_cpu * 1000 / len(bodies),
                "e_cpu": e_cpu * 1000 / len(bodies),
                "proof_cpu_req": to_proof_cpu * 1000 / len(bodies),
                "db_cpu": d_cpu * 1000 / len(bodies),
                "db_proof_cpu": d_proof_cpu * 1000 / len(bodies),
                "bad": fmt_status(s.statuses, 202),
                "anchored": anchored_after,
                "failed": counts.get("failed", 0),
                "proofs": len(sample),
                "proof_p50": p.pct(0.5),
                "proof_p99": p.pct(0.99),
                "proof_cpu": p_cpu * 1000 / max(1, len(sample)),
                "proof_bad": fmt_status(p.statuses, 200),
                "rss": peak_rss_mib(server_proc.p.pid),
                "e_rss": peak_rss_mib(empty.p.pid),
            }
        )


def print_table(rows: list[dict[str, Any]], clients: int) -> None:
    print(f"\nPOST /v1/receipts vs empty POST route, {clients} clients, same bodies and uvicorn")
    head = (
        f"{'backend':9} {'server':9} {'mode':12} {'requests':>8} {'digests/s':>10} {'req/s':>8} "
        f"{'empty r/s':>9} {'ratio':>6} {'p50 ms':>7} {'empty':>6} {'ratio':>6} "
        f"{'p99 ms':>7} {'empty':>6} {'ratio':>6} {'CPU ms/req':>10} {'empty':>6} "
        f"{'to proof':>8} {'non-2xx':>8}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['backend']:9} {r['server']:9} {r['mode']:12} {r['requests']:>8,} "
            f"{r['dps']:>10,.0f} "
            f"{r['rps']:>8,.0f} {r['e_rps']:>9,.0f} {r['rps'] / r['e_rps']:>6.2f} "
            f"{r['p50']:>7.1f} {r['e_p50']:>6.1f} {r['p50'] / r['e_p50']:>6.1f} "
            f"{r['p99']:>7.1f} {r['e_p99']:>6.1f} {r['p99'] / r['e_p99']:>6.1f} "
            f"{r['cpu']:>10.2f} {r['e_cpu']:>6.2f} {r['proof_cpu_req']:>8.2f} {r['bad']:>8}"
        )
    print(
        "\n(ratio: ours / empty; req/s ratio < 1 and latency ratio > 1 are the API's overhead;"
        "\n CPU ms/req: server CPU time during the run / requests, worker thread included;"
        "\n to proof: server CPU from the run's start until no receipt is pending (every digest"
        "\n taken AND batched, its proof stored) / requests: the intake-to-proof cost;"
        "\n server 'up': anchor up's own API; 'serve xN': anchor serve --workers N beside the"
        "\n worker of anchor up, against the one-process empty route)"
    )
    head = (
        f"{'backend':9} {'server':9} {'mode':12} {'digests':>8} {'anchored after s':>16} "
        f"{'failed':>6} "
        f"{'proof GETs':>10} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/GET':>10} {'non-200':>8} "
        f"{'peak RSS MiB':>12} {'empty RSS':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        rss = f"{r['rss']:.0f}" if r["rss"] else "?"
        e_rss = f"{r['e_rss']:.0f}" if r["e_rss"] else "?"
        print(
            f"{r['backend']:9} {r['server']:9} {r['mode']:12} {r['digests']:>8,} "
            f"{r['anchored']:>16.1f} "
            f"{r['failed']:>6} {r['proofs']:>10,} {r['proof_p50']:>7.1f} {r['proof_p99']:>7.1f} "
            f"{r['proof_cpu']:>10.2f} {r['proof_bad']:>8} {rss:>12} {e_rss:>9}"
        )
    print("(peak RSS: of the `anchor up` process so far - API, worker, store - anvil excluded)")
    on_pg = [r for r in rows if r["backend"] == "postgres"]
    if not on_pg:
        return
    head = (
        f"{'backend':9} {'server':9} {'mode':12} {'ours ms/req':>11} {'db ms/req':>9} "
        f"{'ours to proof':>13} {'db to proof':>11}"
    )
    print(f"\n{head}\n{'-' * len(head)}")
    for r in on_pg:
        print(
            f"{r['backend']:9} {r['server']:9} {r['mode']:12} {r['cpu']:>11.2f} "
            f"{r['db_cpu']:>9.2f} {r['proof_cpu_req']:>13.2f} {r['db_proof_cpu']:>11.2f}"
        )
    print(
        "(db: CPU of every postgres process on this machine over the same windows as CPU ms/req"
        "\n and to proof, per request: the database server's side, which ours leaves out; other"
        "\n clients of the server count too)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--digests", type=int, default=None, help="in 100-digest requests (default 100,000)"
    )
    parser.add_argument(
        "--single-digests", type=int, default=None, help="in 1-digest requests (default 10,000)"
    )
    parser.add_argument("--quick", action="store_true", help="5,000 digests (1,000 singles)")
    parser.add_argument("--batch", type=int, default=100, help="digests per request")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--proof-sample", type=int, default=1000, help="proofs fetched per mode")
    parser.add_argument("--backends", type=backend_list, default="sqlite,postgres")
    parser.add_argument("--anchor-timeout", type=float, default=900.0, help="seconds")
    parser.add_argument(
        "--workers",
        "--processes",
        dest="workers",
        type=lambda v: [int(x) for x in v.split(",")],
        default=None,
        help="PostgreSQL only: also load `anchor serve --workers N` for each N, e.g. 1,2,4",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="for --workers")
    parser.add_argument("--serve-empty", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_empty:
        serve_empty(args.serve_empty)
        return
    if args.quick:
        args.digests = args.digests or 5_000
        args.proof_sample = 200
        args.single_digests = args.single_digests or 1_000
    args.digests = args.digests or 100_000
    args.single_digests = args.single_digests or 10_000

    def _term(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    print(
        f"{args.digests:,} digests in requests of {args.batch}, {args.single_digests:,} digests"
        f" in single-digest requests (smaller: one request each), {args.clients} clients;"
        f" ANCHOR_API_RATE_PER_SECOND and ANCHOR_API_RATE_BURST raised to {RATE} for the bench",
        flush=True,
    )
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        try:
            for backend in args.backends:
                bench_backend(backend, args, Path(tmp), rows)
        except KeyboardInterrupt:
            print("\ninterrupted; servers stopped")
        finally:
            if rows:
                print_table(rows, args.clients)


if __name__ == "__main__":
    main()
