"""Fault injection with real `anchor worker` processes on a real anvil, SQLite and PostgreSQL.

Three bodies submit at once, so the worker's relayed transactions carry the anchors of several
bodies: a kill between signing, broadcasting and recording hits a transaction of many batches.

* SIGKILL at random points, many cycles, while digests keep arriving, with reorgs and rollbacks
  of the chain between kills, deeper than the confirmation depth: every acknowledged receipt ends
  anchored on a canonical transaction with a proof that verifies on chain under its body's key,
  and no root is anchored twice.
* SIGKILL of the worker and of the development chain with the chain rolled back under the outbox
  (issue 13): anvil comes back from its ``--state`` file, written every second, and everything
  drains.
* Two workers on one PostgreSQL: one writer at a time, nonces strictly increasing, nothing
  anchored twice.

The CI size is bounded: 4 kill cycles; ``-m slow`` runs ``ANCHOR_KILL_CYCLES`` cycles (default 8).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.keystore import create_keystore
from anchor.service.intake import submit
from anchor.types import BatchState, ReceiptState
from tests.support.pg import fresh_schema
from tests.support.service import Env, make_env

pytestmark = [pytest.mark.chain, pytest.mark.timeout(900)]

ANCHOR = str(Path(sys.executable).parent / "anchor")
PASSWORD = "kill-test-password"


@contextmanager
def store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh store URL on the backend."""
    if backend == "postgres":
        with fresh_schema() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'anchor.db'}"


def bodies_env(tmp_path: Path, node: Anvil, url: str) -> Env:
    """The test's env with three onboarded bodies, their keystores written for the workers."""
    env = make_env(tmp_path, node, url)
    env.add_body("Syndicat SIGI")
    env.add_body("Office social de Hesperange")
    env.write_keystores(PASSWORD)
    return env


def worker_env(env: Env, url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a worker process for this test's chain and store."""
    keystore = tmp_path / "signer.json"
    if not keystore.exists():
        create_keystore(keystore, PASSWORD, dev_key(1), iterations=2**10)
    return {
        **os.environ,
        "ANCHOR_RPC_URLS": env.node.url,
        "ANCHOR_CHAIN_ID": "31337",
        "ANCHOR_REGISTRY_ADDRESS": env.registry.address,
        "ANCHOR_KEYSTORE_PATH": str(keystore),
        "ANCHOR_KEYSTORE_PASSWORD": PASSWORD,
        "ANCHOR_DATABASE_URL": url,
        "ANCHOR_DATA_DIR": str(tmp_path),
        "ANCHOR_CONFIRMATIONS": "1",
        "ANCHOR_MAX_BATCH_SIZE": "400",
        "ANCHOR_MAX_BATCH_AGE": "0.3",
        "ANCHOR_POLL_INTERVAL": "0.1",
    }


def start_worker(env_vars: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `anchor worker` with its logs appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [ANCHOR, "worker", "--plain-logs"], env=env_vars, stdout=out, stderr=out
        )


def wait_for_line(log: Path, text: str, timeout: float = 90) -> None:
    """Wait until ``text`` appears in ``log`` (worker start-up is slow on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in {log}")


class Feeder:
    """Submits a few digests every few milliseconds from a thread; remembers what was acked."""

    def __init__(self, env: Env, seed: int) -> None:
        self.env = env
        self.rng = random.Random(seed)
        self.acked: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.wait(0.05):
            count = self.rng.randint(1, 4)
            digests = [self.rng.randbytes(32).hex() for _ in range(count)]
            integrator = self.rng.choice(self.env.bodies).integrator
            self.acked += [r.id for r in submit(self.env.store, digests, integrator)]

    def __enter__(self) -> Feeder:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


def wait_all_anchored(env: Env, ids: list[str], timeout: float) -> None:
    """Wait until every receipt is anchored, or fail listing the first stragglers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = [env.store.get_receipt(i).state for i in ids]  # type: ignore[union-attr]
        if all(s == ReceiptState.ANCHORED for s in states):
            return
        time.sleep(0.3)
    late = [i for i, s in zip(ids, states, strict=True) if s != ReceiptState.ANCHORED]
    raise AssertionError(f"{len(late)} receipts not anchored, e.g. {late[:3]}: {states[:3]}")


def assert_everything_anchored_once(env: Env, ids: list[str]) -> None:
    """Every acked receipt anchored on a canonical transaction with a proof the chain accepts
    under its body's key; one event per (body, root)."""
    keys = {b.issuer_id: (b.anchoring.address, b.body_id) for b in env.bodies}
    batches: dict[int, tuple[int, bytes]] = {}
    for receipt_id in ids:
        receipt = env.store.get_receipt(receipt_id)
        assert receipt is not None and receipt.batch_id is not None and receipt.leaf is not None
        assert receipt.issuer_id is not None
        key, body_id = keys[receipt.issuer_id]
        if receipt.batch_id not in batches:
            batch = env.store.get_batch(receipt.batch_id)
            assert batch is not None and batch.state == BatchState.ANCHORED
            assert batch.tx_hash is not None and batch.block_number is not None
            mined = env.w3.eth.get_transaction_receipt(batch.tx_hash)  # type: ignore[arg-type]
            assert mined["status"] == 1 and mined["blockNumber"] == batch.block_number
            assert env.w3.eth.get_block(batch.block_number)["hash"] == mined["blockHash"]
            assert body_id is not None
            batches[receipt.batch_id] = (body_id, batch.root)
        status = env.registry.status(key, batches[receipt.batch_id][1], list(receipt.proof),
                                     receipt.leaf)  # fmt: skip
        assert status.included and status.authorised
    anchored = anchored_pairs(env)
    assert len(anchored) == len(set(anchored)), "a root was anchored twice"
    assert set(batches.values()) <= set(anchored)
    assert env.store.batches_in_state(BatchState.FAILED) == []


def anchored_pairs(env: Env) -> list[tuple[int, bytes]]:
    """Every (body, root) the registry's events show anchored, direct or relayed."""
    events = env.registry.contract.events
    pairs = [(int(e["args"]["bodyId"]), bytes(e["args"]["root"]))
             for e in events.RootAnchored().get_logs(from_block=0)]  # fmt: skip
    for e in events.RootsAnchored().get_logs(from_block=0):
        packed = bytes(e["args"]["anchors"])
        pairs += [(int.from_bytes(packed[i : i + 4], "big"), packed[i + 4 : i + 36])
                  for i in range(0, len(packed), 36)]  # fmt: skip
    return pairs


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_sigkill_cycles_lose_nothing(backend: str, tmp_path: Path) -> None:
    run_kill_test(backend, tmp_path, cycles=4, seed=int(os.environ.get("ANCHOR_KILL_SEED", "7")))


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_sigkill_cycles_lose_nothing_long(backend: str, tmp_path: Path) -> None:
    seed = int(os.environ.get("ANCHOR_KILL_SEED", str(random.randrange(1 << 30))))
    run_kill_test(
        backend, tmp_path, cycles=int(os.environ.get("ANCHOR_KILL_CYCLES", "8")), seed=seed
    )


def chain_fault(env: Env, rng: random.Random) -> str:
    """A reorg or a rollback of 1 to 4 blocks (the confirmation depth is 1), or nothing."""
    depth = rng.randint(1, 4)
    kind = rng.choice(["reorg", "rollback", "none"])
    if kind == "reorg":
        env.rpc("anvil_reorg", depth, [])
    elif kind == "rollback":
        env.rpc("anvil_rollback", depth)
    return kind if kind == "none" else f"{kind}({depth})"


def run_kill_test(backend: str, tmp_path: Path, cycles: int, seed: int) -> None:
    """Kill workers ``cycles`` times while digests arrive, reorganising or rolling back the chain
    between kills; then check nothing was lost."""
    print(f"kill test: backend={backend} cycles={cycles} seed={seed}")
    rng = random.Random(seed)
    faults: list[str] = []
    with store_url(backend, tmp_path) as url, Anvil(block_time=1) as node:
        env = bodies_env(tmp_path, node, url)
        # The faults' rollbacks add up when kills come fast (up to 4 blocks each, maybe none
        # mined between two): enough blocks above the bodies' onboarding that no sum of them
        # undoes it (seed 39680194 of the 8-cycle run unregistered body 3's key otherwise).
        env.rpc("anvil_mine", 4 * cycles)
        env_vars = worker_env(env, url, tmp_path)
        with Feeder(env, seed) as feeder:
            for cycle in range(cycles):
                log = tmp_path / f"worker-{cycle}.log"
                worker = start_worker(env_vars, log)
                if cycle % 3 != 2:  # most kills land in the loop, some during start-up
                    wait_for_line(log, "worker started")
                time.sleep(rng.uniform(0.0, 3.0))
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                faults.append(chain_fault(env, rng))
        assert feeder.acked, "the feeder acknowledged nothing"
        started = time.monotonic()
        worker = start_worker(env_vars, tmp_path / "worker-last.log")
        try:
            wait_all_anchored(env, feeder.acked, timeout=120)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        drained = time.monotonic() - started
        assert_everything_anchored_once(env, feeder.acked)
        batches = {env.store.get_receipt(i).batch_id for i in feeder.acked}  # type: ignore[union-attr]
        print(
            f"kill test: {cycles} cycles, {len(feeder.acked)} receipts in {len(batches)} batches, "
            f"faults {faults}, drained {drained:.1f} s after the last fault"
        )
        env.store.close()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the dev chain must come back on the same one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def anchored_count(env: Env) -> int:
    return len(env.store.batches_in_state(BatchState.ANCHORED))


def wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkill_with_the_dev_chain_rolled_back_drains(tmp_path: Path) -> None:
    """Issue 13's third case: the worker and the chain are killed, and the chain comes back
    behind the outbox: anchored batches and a transaction in flight are gone from it."""
    port = free_port()
    state = tmp_path / "anvil-state.json"
    node = Anvil(block_time=1, state_path=state, state_interval=1, port=port).start()
    try:
        url = f"sqlite:///{tmp_path / 'anchor.db'}"
        env = bodies_env(tmp_path, node, url)
        env_vars = worker_env(env, url, tmp_path)
        acked: list[str] = []
        with Feeder(env, 3) as feeder:
            worker = start_worker(env_vars, tmp_path / "worker-0.log")
            wait_until(lambda: anchored_count(env) >= 3, 90, "three anchored batches")
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        acked += feeder.acked
        anchored = env.store.batches_in_state(BatchState.ANCHORED)
        lowest = min(b.block_number for b in anchored[-2:] if b.block_number is not None)
        # The chain loses the blocks of the last two anchored batches, and what was in flight.
        env.rpc("anvil_rollback", env.w3.eth.block_number - lowest + 1)
        time.sleep(2.5)  # at least one --state-interval after the rollback
        node.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
        node.process.wait()  # type: ignore[union-attr]
        node = Anvil(block_time=1, state_path=state, state_interval=1, port=port).start()
        env.node = node
        # The chain came back from its state file: the registry is still there.
        assert len(env.w3.eth.get_code(env.registry.address)) > 0
        assert env.w3.eth.block_number >= lowest - 1
        with Feeder(env, 4) as feeder:
            started = time.monotonic()
            worker = start_worker(env_vars, tmp_path / "worker-1.log")
            try:
                time.sleep(3)
                feeder.stop.set()
                feeder.thread.join()
                acked += feeder.acked
                wait_all_anchored(env, acked, timeout=120)
            finally:
                worker.terminate()
                worker.wait(timeout=30)
        drained = time.monotonic() - started
        print(f"rolled-back restart: {len(acked)} receipts drained in {drained:.1f} s")
        assert_everything_anchored_once(env, acked)
        for lost in anchored[-2:]:  # anchored again, in another block
            again = env.store.get_batch(lost.id)
            assert again is not None and again.block_hash != lost.block_hash
        env.store.close()
    finally:
        node.stop()


@pytest.mark.postgres
def test_two_workers_on_one_postgres(tmp_path: Path) -> None:
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    with fresh_schema() as url, Anvil(block_time=1) as node:
        env = bodies_env(tmp_path, node, url)
        env_vars = worker_env(env, url, tmp_path)
        with Feeder(env, 11) as feeder:
            workers = [start_worker(env_vars, log) for log in logs]
            try:
                # One takes the writer lock and runs; the other waits for it.
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    texts = [log.read_text() if log.exists() else "" for log in logs]
                    started = [i for i, t in enumerate(texts) if "worker started" in t]
                    waiting = [i for i, t in enumerate(texts) if "holds the writer lock" in t]
                    if started and waiting:
                        break
                    time.sleep(0.2)
                assert len(started) == 1 and waiting == [1 - started[0]], texts
                time.sleep(3)
                # Kill the writer: the waiting worker takes over.
                workers[started[0]].send_signal(signal.SIGKILL)
                workers[started[0]].wait()
                wait_for_line(logs[waiting[0]], "worker started")
                time.sleep(2)
            except BaseException:
                for w in workers:
                    w.kill()
                raise
        survivor = workers[waiting[0]]
        try:
            wait_all_anchored(env, feeder.acked, timeout=90)
        finally:
            survivor.terminate()
            survivor.wait(timeout=30)
        assert_everything_anchored_once(env, feeder.acked)
        txs = [
            env.w3.eth.get_transaction(e["transactionHash"])
            for e in env.registry.contract.events.RootsAnchored().get_logs(from_block=0)
        ]
        ordered = sorted(txs, key=lambda t: (t["blockNumber"], t["transactionIndex"]))
        nonces = [tx["nonce"] for tx in ordered]
        assert nonces == sorted(set(nonces)), f"nonces not strictly increasing: {nonces}"
        env.store.close()
