"""An acknowledged status change survives real `anchor worker` processes killed with SIGKILL
before and after its broadcast, and is made once (the raw transaction stored before broadcast,
the same bytes sent again)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.keystore import create_keystore
from anchor.chain.registry import ChangeKind
from anchor.private_files import create_private
from anchor.store import Store
from anchor.types import StatusChangeState
from tests.support.service import make_env
from tests.support.statuses import RefusingProxy, Stack

pytestmark = [pytest.mark.chain, pytest.mark.timeout(600)]

ANCHOR = str(Path(sys.executable).parent / "anchor")
PASSWORD = "status-test-password"


@pytest.fixture
def stack(tmp_path: Path, anvil: Anvil) -> Iterator[Stack]:
    env = make_env(tmp_path, anvil)
    env.add_body("Syndicat SIGI")
    made = Stack(env, tmp_path)
    yield made
    made.client.close()
    env.store.close()


def write_keystores(stack: Stack, tmp_path: Path) -> dict[str, str]:
    """Every body's anchoring and status keystores, and the environment of a worker."""
    for body in stack.env.bodies:
        for account in (body.anchoring, body.status):
            path = tmp_path / "keys" / f"{account.address}.json"
            if not path.exists():
                encrypted = Account.encrypt(account.key, PASSWORD, iterations=2**10)
                create_private(path, json.dumps(encrypted).encode())
    keystore = tmp_path / "relayer.json"
    create_keystore(keystore, PASSWORD, dev_key(1), iterations=2**10)
    return {
        **os.environ,
        "ANCHOR_CHAIN_ID": "31337",
        "ANCHOR_REGISTRY_ADDRESS": stack.env.registry.address,
        "ANCHOR_KEYSTORE_PATH": str(keystore),
        "ANCHOR_KEYSTORE_PASSWORD": PASSWORD,
        "ANCHOR_DATABASE_URL": str(stack.store.engine.url),
        "ANCHOR_DATA_DIR": str(tmp_path),
        "ANCHOR_CONFIRMATIONS": "1",
        "ANCHOR_POLL_INTERVAL": "0.1",
    }


def start_worker(env: dict[str, str], rpc: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [ANCHOR, "worker", "--plain-logs"], env={**env, "ANCHOR_RPC_URLS": rpc},
            stdout=out, stderr=out,
        )  # fmt: skip


def until(check: Any, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"never: {what}")


def kill(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)


def test_an_acknowledged_change_survives_sigkill_before_and_after_broadcast(
    stack: Stack, tmp_path: Path
) -> None:
    [before] = stack.anchored(1)
    body_b = stack.env.bodies[1]
    [after] = stack.anchored(1, body_b.integrator)  # another key: another nonce lane
    key_b = stack.store.create_api_key(body_b.integrator, ["status"])[1]
    env_vars = write_keystores(stack, tmp_path)
    log = tmp_path / "worker.log"
    store = stack.store
    change = stack.accepted(before, {"change": "suspend", "reason": 1})

    # 1. Killed before broadcast: the worker signs and stores; no node ever takes it.
    proxy = RefusingProxy(stack.env.node.url)
    worker = start_worker(env_vars, proxy.url, log)
    try:
        until(lambda: _state(store, change) is StatusChangeState.SENT, "signed and stored")
        until(lambda: proxy.refused >= 2, "a broadcast tried again")
    finally:
        kill(worker)
        proxy.close()
    stored = store.get_status_change(change)
    assert stored is not None and stored.raw_tx is not None and stored.tx_hash is not None
    assert stack.document(before).changes == 0  # nothing reached the chain

    # 2. Killed after broadcast: the transactions wait in the pool (no mining) when it dies: the
    #    first one sent again from its stored bytes, a second one (body B's key) new.
    stack.env.automine(False)
    second = stack.accepted(after, {"change": "revoke", "reason": 4}, key_b)
    worker = start_worker(env_vars, stack.env.node.url, log)
    try:
        until(lambda: _sent_at(store, second) is not None, "the second one broadcast")
    finally:
        kill(worker)
    first_tx, second_tx = stored.tx_hash, _tx(store, second)
    pool = stack.env.rpc("txpool_content")
    assert _in_pool(pool, first_tx) and _in_pool(pool, second_tx)  # the same stored bytes
    stack.env.automine(True)
    stack.env.mine(3)

    # 3. A new worker follows both to done, without sending either again.
    worker = start_worker(env_vars, stack.env.node.url, log)
    try:
        until(
            lambda: _state(store, change) is _state(store, second) is StatusChangeState.DONE,
            "both done",
        )
    finally:
        kill(worker)
    assert _tx(store, change) == first_tx and _tx(store, second) == second_tx
    assert stack.document(before).state == ChangeKind.SUSPENDED
    assert stack.document(after).state == ChangeKind.REVOKED
    for receipt in (before, after):
        found = store.get_receipt(receipt)
        assert found is not None and found.batch_id is not None and found.leaf is not None
        batch = store.get_batch(found.batch_id)
        assert batch is not None
        body = next(b for b in stack.env.bodies if b.issuer_id == found.issuer_id)
        history = stack.env.registry.history_of(body.body_id or 0, batch.root, found.leaf)
        assert len(history) == 1  # made once, not twice


def _state(store: Store, change: str) -> StatusChangeState | None:
    found = store.get_status_change(change)
    return None if found is None else found.state


def _sent_at(store: Store, change: str) -> datetime | None:
    found = store.get_status_change(change)
    return None if found is None else found.sent_at


def _tx(store: Store, change: str) -> bytes | None:
    found = store.get_status_change(change)
    return None if found is None else found.tx_hash


def _in_pool(pool: object, tx_hash: bytes | None) -> bool:
    assert tx_hash is not None
    return ("0x" + tx_hash.hex()) in json.dumps(pool).lower()
