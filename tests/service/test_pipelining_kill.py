"""Issue 12: a real `anchor worker` SIGKILLed with two of its relayed transactions in flight.

The worker talks to anvil (1-s blocks, so its send windows engage) through a proxy that, while
``swallow`` is set, answers every ``eth_sendRawTransaction`` as a node that took it and then
lost it: nothing is mined, and the worker sends one more transaction in each block's window at
the next nonce while the lower ones wait. Once two are in flight it is killed; the proxy then
forwards again, a new worker rebroadcasts the stored bytes, and every acknowledged receipt ends
anchored once, each nonce used by one transaction.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from anchor.chain.devchain import Anvil
from anchor.merkle.hashing import keccak256
from anchor.service.intake import submit
from anchor.types import IN_FLIGHT_OUTBOX_STATES, OutboxState
from tests.service.test_worker_faults import (
    assert_everything_anchored_once,
    bodies_env,
    start_worker,
    wait_all_anchored,
    wait_for_line,
    worker_env,
)
from tests.support.rpc_proxy import RecordingProxy

pytestmark = [pytest.mark.chain, pytest.mark.timeout(300)]


class LosingNode(RecordingProxy):
    """A JSON-RPC proxy to ``upstream`` that, while ``swallow`` is set, takes transactions and
    never forwards them (single requests only, as the worker sends them)."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.swallow = threading.Event()

    def answer(self, body: bytes) -> bytes:
        """The node's answer, or a made-up acceptance of a swallowed transaction."""
        request = json.loads(body)
        if (
            self.swallow.is_set()
            and isinstance(request, dict)
            and request.get("method") == "eth_sendRawTransaction"
        ):
            raw = bytes.fromhex(request["params"][0].removeprefix("0x"))
            result = "0x" + keccak256(raw).hex()
            return json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}).encode()
        return super().answer(body)


def test_sigkill_with_two_transactions_in_flight(tmp_path: Path) -> None:
    with Anvil(block_time=1) as node:
        url = f"sqlite:///{tmp_path / 'anchor.db'}"
        env = bodies_env(tmp_path, node, url)
        try:
            with LosingNode(node.url) as proxy:
                env_vars = {**worker_env(env, url, tmp_path), "ANCHOR_RPC_URLS": proxy.url,
                            "ANCHOR_MAX_IN_FLIGHT": "3"}  # fmt: skip
                relayer = env.relayer.address
                proxy.swallow.set()
                worker = start_worker(env_vars, tmp_path / "worker-0.log")
                wait_for_line(tmp_path / "worker-0.log", "worker started")
                acked: list[str] = []
                deadline = time.monotonic() + 60
                while True:
                    body = env.bodies[len(acked) % len(env.bodies)]
                    acked += [
                        r.id for r in submit(env.store, [os.urandom(32).hex()], body.integrator)
                    ]
                    live = [e for e in env.store.live_outbox(relayer)
                            if e.state in IN_FLIGHT_OUTBOX_STATES]  # fmt: skip
                    if len({e.nonce for e in live if e.state == OutboxState.BROADCAST}) >= 2:
                        break
                    assert time.monotonic() < deadline, "the worker never had two transactions out"
                    time.sleep(0.2)
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                assert env.w3.eth.get_transaction_count(relayer) == 0  # nothing reached the chain
                nonces = sorted({e.nonce for e in live})
                assert nonces[:2] == [0, 1]
                proxy.swallow.clear()
                worker = start_worker(env_vars, tmp_path / "worker-1.log")
                try:
                    wait_all_anchored(env, acked, timeout=90)
                finally:
                    worker.send_signal(signal.SIGTERM)
                    worker.wait(timeout=30)
                assert_everything_anchored_once(env, acked)
                assert env.store.live_outbox(relayer) == []  # nothing left in flight
        finally:
            env.store.close()
