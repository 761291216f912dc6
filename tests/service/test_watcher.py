"""The watcher on a real anvil: a rogue anchor under our body, status changes with our key,
roles, names, pauses."""

from __future__ import annotations

import logging
import os

import pytest

from anchor.chain.client import ChainClient
from anchor.chain.registry import REVOKER_ROLE
from anchor.service.metrics import Metrics
from anchor.service.watcher import ALERT_KINDS, Watcher, WatcherMetrics
from anchor.service.worker import Worker
from anchor.settings import load_settings
from anchor.types import BatchState
from tests.support.chain import send
from tests.support.service import Env

pytestmark = pytest.mark.chain


def alerts(metrics: Metrics, kind: str) -> float:
    value = metrics.registry.get_sample_value("anchor_watcher_alerts_total", {"kind": kind})
    return value or 0.0


def our_keys(env: Env) -> list[str]:
    return [env.relayer.address] + [a.address for b in env.bodies for a in (b.anchoring, b.status)]


def our_bodies(env: Env) -> set[int]:
    return {b.body_id for b in env.bodies if b.body_id is not None}


def watcher_of(env: Env, metrics: Metrics, confirmations: int = 0) -> Watcher:
    chain = ChainClient([env.node.url], 31337, timeout=5)
    return Watcher(
        chain, env.registry.address, env.store, WatcherMetrics(metrics.registry),
        our_keys(env), our_bodies=lambda: our_bodies(env), confirmations=confirmations,
    )  # fmt: skip


def test_a_rogue_anchor_under_our_body_raises_the_metric_and_one_line(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics()
    submitter = env.submitter()
    worker = Worker(load_settings(), env.store, submitter, metrics, watcher_of(env, metrics))
    worker.run_once()  # the watcher starts at the head
    env.take(3)
    worker.run_once()  # the service anchors its batch: no alert
    assert env.store.batches_in_state(BatchState.SUBMITTED)
    assert sum(alerts(metrics, kind) for kind in ALERT_KINDS) == 0
    rogue = os.urandom(32)
    with caplog.at_level(logging.WARNING, logger="anchor.service.watcher"):
        anchor = env.registry.contract.functions.anchor(rogue, 1)
        send(env.w3, env.bodies[0].anchoring, anchor)
        worker.run_once()
    assert alerts(metrics, "unknown_anchor") == 1
    lines = [r for r in caplog.records if r.name == "anchor.service.watcher"]
    assert len(lines) == 1
    assert lines[0].alert == "unknown_anchor"
    assert lines[0].root == "0x" + rogue.hex()
    assert lines[0].body == env.bodies[0].body_id
    worker.run_once()
    assert alerts(metrics, "unknown_anchor") == 1  # each event is raised once


def test_revocations_by_our_key_role_changes_and_pauses_are_raised(env: Env) -> None:
    metrics = Metrics()
    watcher = watcher_of(env, metrics)
    assert watcher.step() == 0
    root = os.urandom(32)
    contract = env.registry.contract.functions
    body = env.bodies[0]
    send(env.w3, body.anchoring, contract.anchor(root, 1))
    send(env.w3, body.status, contract.revokeRoot(body.body_id, root, 3))
    send(env.w3, env.admin, contract.grantRole(REVOKER_ROLE, env.admin.address))
    names = ("Commune de Contern", "Gemeng Contern", "", "Gemeng Conter")
    send(env.w3, env.admin, contract.renameBody(body.body_id, names, 0))
    send(env.w3, env.admin, contract.pause())
    send(env.w3, env.admin, contract.unpause())
    assert watcher.step() == 6
    for kind in ("unknown_anchor", "revocation_by_our_key", "role_change", "name_change",
                 "paused", "unpaused"):  # fmt: skip
        assert alerts(metrics, kind) == 1, kind
    # The cursor is in the store: another watcher resumes after what was read.
    again = Metrics()
    assert watcher_of(env, again).step() == 0
    assert env.store.watch_cursor(watcher.cursor_name) == env.w3.eth.block_number + 1


def test_final_blocks_only_and_an_outage_is_logged_not_raised(env: Env) -> None:
    metrics = Metrics()
    watcher = watcher_of(env, metrics, confirmations=2)
    watcher.step()
    anchor = env.registry.contract.functions.anchor(os.urandom(32), 1)
    send(env.w3, env.bodies[0].anchoring, anchor)
    assert watcher.step() == 0  # not final yet
    env.mine(2)
    assert watcher.step() == 1
    down = Watcher(
        ChainClient(["http://127.0.0.1:9"], 31337, timeout=1), env.registry.address, env.store,
        WatcherMetrics(Metrics().registry), our_keys(env),
    )  # fmt: skip
    assert down.step() == 0


def test_the_keys_of_a_body_added_while_the_worker_runs_are_watched(env: Env) -> None:
    metrics = Metrics()
    chain = ChainClient([env.node.url], 31337, timeout=5)
    watcher = Watcher(
        chain, env.registry.address, env.store, WatcherMetrics(metrics.registry),
        [env.relayer.address], our_bodies=lambda: our_bodies(env),
    )  # fmt: skip
    worker = Worker(load_settings(), env.store, env.submitter(), metrics, watcher)
    worker.run_once()
    late = env.add_body("Commune de Bous")  # after the worker started
    root = os.urandom(32)
    contract = env.registry.contract.functions
    send(env.w3, late.anchoring, contract.anchor(root, 1))
    send(env.w3, late.status, contract.revokeRoot(late.body_id, root, 3))
    worker.run_once()
    assert alerts(metrics, "revocation_by_our_key") == 1


def test_a_rogue_relayed_anchor_under_our_body_is_raised(env: Env) -> None:
    """The body's key signed outside the service and someone else relayed it (RootsAnchored)."""
    import time

    from eth_account import Account

    from anchor.chain.devchain import dev_key
    from anchor.chain.eip712 import sign_anchor

    metrics = Metrics()
    watcher = watcher_of(env, metrics)
    assert watcher.step() == 0
    outsider = Account.from_key(dev_key(7))
    rogue = os.urandom(32)
    deadline = int(time.time()) + 600
    item = sign_anchor(
        env.bodies[0].anchoring, 31337, env.registry.address, rogue, 1, outsider.address, deadline
    )
    call = env.registry.contract.functions.anchorSigned(deadline, [item.as_tuple()])
    send(env.w3, outsider, call)
    assert watcher.step() == 1
    assert alerts(metrics, "unknown_anchor") == 1
