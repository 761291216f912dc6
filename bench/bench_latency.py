"""Time from submit to anchored, with a 2-second block time, on SQLite and PostgreSQL.

Starts its own anvil (``--block-time 2``), deploys the registry, onboards ``--bodies`` bodies (as
``anchor up`` does), runs the worker in a thread (relay mode: one transaction a block carries the
anchors of every body) and has one integrator per body submit digests at the same time, at a
steady total rate, for a while; then reads, for each receipt, the time from its
acknowledgement (``created_at``) to its batch reaching finality (``anchored_at``), and prints
p50, p95 and max against the target of issue 12 (p95 at most ``max_batch_age`` + 2 blocks), and
how many anchors the relayed transactions carried. The floor is set by the chain: half a block
on average before inclusion, plus ``confirmations`` blocks, plus the batcher's ``max_batch_age``.

A second line splits each receipt's time into phases (p50/p95 over receipts): ``batched``
(acknowledged to its batch frozen), ``sent`` (frozen to marked submitted), ``mined`` (submitted
to the wall-clock moment its inclusion block appeared at the node, seen by a thread polling
the head every 20 ms) and ``final`` (that moment to ``anchored_at``), and counts the receipts
whose batch went out while another transaction of the relayer waited for inclusion would not
have (``next block``: mined in a later block than the first one after its batch froze).

    .venv/bin/python bench/bench_latency.py --seconds 30 --rate 50 --confirmations 1 --bodies 20

``--quick-onboard`` deploys and onboards on an automining anvil (one block per transaction, at
once: seconds instead of about three minutes for 20 bodies), then switches the same node to
2-second interval mining (``evm_setIntervalMining``, the mode ``--block-time 2`` starts in) and
waits for three of its blocks before the worker starts; the measured phase is the same.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from backend_names import backend_list
from eth_account import Account
from web3 import Web3

from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.registry import REGISTRAR_ROLE, Registry, deploy_registry, fee_fields
from anchor.chain.signer import create_body_keystore
from anchor.service.intake import submit
from anchor.service.worker import Worker
from anchor.settings import DEV_KEYSTORE_PASSWORD, load_settings
from anchor.store import NewKey, Store, open_store
from anchor.types import IssuerKind, KeyPurpose, ReceiptState
from api.up import onboard_store_bodies

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def grant(w3: Web3, registry: Registry) -> None:
    """Make development key 0 the registrar (it onboards the bench's body)."""
    admin = Account.from_key(dev_key(0))
    tx = registry.contract.functions.grantRole(REGISTRAR_ROLE, admin.address).build_transaction(
        {
            "from": admin.address,
            "nonce": w3.eth.get_transaction_count(admin.address),
            **fee_fields(w3),
        }
    )
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(admin.sign_transaction(tx).raw_transaction)
    )


def bench_body(store: Store, data_dir: Path, number: int) -> int:
    """A body with keystores under ``data_dir`` (development password); its integrator's id."""
    keys = []
    for purpose in KeyPurpose:
        address, name = create_body_keystore(data_dir, DEV_KEYSTORE_PASSWORD, iterations=2**12)
        keys.append(NewKey(purpose, address, name))
    issuer = store.create_issuer(IssuerKind.COMMUNE, f"Bench body {number}", keys)
    return store.create_integrator(f"bench {number}", issuer.id).id


def submit_for(store: Store, integrator: int, seconds: float, rate: float, ids: list[str]) -> None:
    """One integrator submitting one digest at a time at ``rate`` a second for ``seconds``."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        ids += [r.id for r in submit(store, [os.urandom(32).hex()], integrator)]
        time.sleep(1 / rate)


def watch_heads(w3: Web3, seen: dict[int, float], stop: threading.Event) -> None:
    """Record the wall-clock time each block number is first seen at the node."""
    while not stop.is_set():
        number = int(w3.eth.block_number)
        for n in range(max(seen, default=number - 1) + 1, number + 1):
            seen[n] = time.time()
        stop.wait(0.02)


def _quantiles(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{statistics.median(ordered):5.2f}/{ordered[int(0.95 * (len(ordered) - 1))]:5.2f}"


def interval_mining(w3: Web3, seconds: int) -> None:
    """Switch an automining anvil to a block every ``seconds``; return after three such blocks."""
    w3.provider.make_request("evm_setIntervalMining", [seconds])  # type: ignore[arg-type]
    first = int(w3.eth.block_number)
    while int(w3.eth.block_number) < first + 3:
        time.sleep(0.05)


def run(
    backend: str,
    seconds: float,
    rate: float,
    confirmations: int,
    batch_age: float,
    bodies: int,
    quick_onboard: bool = False,
) -> None:
    block_time = None if quick_onboard else 2
    with tempfile.TemporaryDirectory() as tmp, Anvil(block_time=block_time) as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        address, _ = deploy_registry(w3, Account.from_key(dev_key(0)))
        registry = Registry(w3, address)
        grant(w3, registry)
        if backend == "postgres":
            schema = f"bench_{os.getpid()}"
            url = f"{PG_URL}?options=-csearch_path%3D{schema}"
            import psycopg

            with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as c:
                c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; CREATE SCHEMA "{schema}"')
        else:
            url = f"sqlite:///{Path(tmp) / 'anchor.db'}"
        store = open_store(url, migrate=True)
        integrators = [bench_body(store, Path(tmp), n + 1) for n in range(bodies)]
        onboard_store_bodies(w3, registry, store)
        if quick_onboard:
            interval_mining(w3, 2)
        settings = load_settings(
            data_dir=Path(tmp),
            database_url=url,
            rpc_urls=[node.url],
            registry_address=address,
            confirmations=confirmations,
            max_batch_age=batch_age,
            poll_interval=0.1,
        )
        worker = Worker.from_settings(settings, account=Account.from_key(dev_key(1)))
        seen: dict[int, float] = {}
        stop_watch = threading.Event()
        watcher = threading.Thread(target=watch_heads, args=(w3, seen, stop_watch), daemon=True)
        watcher.start()
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        per_body: list[list[str]] = [[] for _ in integrators]
        submitters = [
            threading.Thread(target=submit_for, args=(store, i, seconds, rate / bodies, out))
            for i, out in zip(integrators, per_body, strict=True)
        ]
        for t in submitters:
            t.start()
        for t in submitters:
            t.join()
        ids = [i for out in per_body for i in out]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if all(store.get_receipt(i).state == ReceiptState.ANCHORED for i in ids):  # type: ignore[union-attr]
                break
            time.sleep(0.5)
        worker.stop()
        thread.join()
        stop_watch.set()
        watcher.join()
        latencies = []
        phases: dict[str, list[float]] = {"batched": [], "sent": [], "mined": [], "final": []}
        late = 0
        txs: dict[bytes, set[int]] = {}
        for receipt_id in ids:
            receipt = store.get_receipt(receipt_id)
            assert receipt is not None and receipt.batch_id is not None
            batch = store.get_batch(receipt.batch_id)
            assert batch is not None and batch.anchored_at is not None
            latencies.append((batch.anchored_at - receipt.created_at).total_seconds())
            assert batch.submitted_at is not None and batch.block_number is not None
            mined = seen.get(batch.block_number, batch.anchored_at.timestamp())
            phases["batched"].append((batch.frozen_at - receipt.created_at).total_seconds())
            phases["sent"].append((batch.submitted_at - batch.frozen_at).total_seconds())
            phases["mined"].append(mined - batch.submitted_at.timestamp())
            phases["final"].append(batch.anchored_at.timestamp() - mined)
            first = min((n for n, t in seen.items() if t > batch.frozen_at.timestamp()), default=0)
            late += batch.block_number > first
            if batch.tx_hash is not None:
                txs.setdefault(batch.tx_hash, set()).add(batch.id)
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        target = batch_age + 2 * 2.0
        per_tx = [len(b) for b in txs.values()] or [0]
        print(
            f"{backend:<9} {bodies:>3} bodies {len(ids):>6} digests  confirmations={confirmations}"
            f" block time 2 s  submit->anchored p50 {statistics.median(latencies):5.2f} s"
            f"  p95 {p95:5.2f} s (target {target:.1f} s: ratio {p95 / target:.2f})"
            f"  max {latencies[-1]:5.2f} s; {len(per_tx)} transactions,"
            f" {statistics.mean(per_tx):.1f} batches each (max {max(per_tx)})"
        )
        print(
            "          phases p50/p95 s: "
            + "  ".join(f"{name} {_quantiles(values)}" for name, values in phases.items())
            + f"  next block: {late} of {len(ids)} receipts"
        )
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rate", type=float, default=50, help="digests per second")
    parser.add_argument("--confirmations", type=int, default=1)
    parser.add_argument("--batch-age", type=float, default=1.0)
    parser.add_argument("--backends", type=backend_list, default="sqlite,postgres")
    parser.add_argument("--bodies", type=int, default=20, help="bodies submitting at once")
    parser.add_argument(
        "--quick-onboard", action="store_true", help="onboard on automine, then 2-s blocks"
    )
    args = parser.parse_args()
    for backend in args.backends:
        run(
            backend, args.seconds, args.rate, args.confirmations, args.batch_age, args.bodies,
            args.quick_onboard,
        )  # fmt: skip


if __name__ == "__main__":
    main()
