"""A send's round trips on a real anvil: every body's preflight in one JSON-RPC batch request,
the refused ones replayed alone, a node without batches, a node that dies in the batch request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from web3 import HTTPProvider

from anchor.types import BatchState
from tests.service.test_bodies import ImpostorSigner, batch_of, run
from tests.support.chain import send
from tests.support.service import Env

pytestmark = pytest.mark.chain


class Calls:
    """The ``anchorSigned`` replays (``eth_call``) the provider sent: alone or in batches."""

    def __init__(self, selector: str) -> None:
        self.selector = selector
        self.alone = 0
        self.batches: list[int] = []

    def note_batch(self, requests_: list[tuple[str, Any]]) -> None:
        """Count a batch request's replays; one without any (the block history a submitter
        reads at its first step, `anchor.service.pacing`) is not a preflight."""
        if replays := self.replays(requests_):
            self.batches.append(replays)

    def replays(self, requests_: list[tuple[str, Any]]) -> int:
        return sum(
            1
            for method, params in requests_
            if method == "eth_call" and str(params[0].get("data", "")).startswith(self.selector)
        )


@pytest.fixture
def calls(env: Env, monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    selector = env.registry.contract.encode_abi("anchorSigned", args=[0, []])[:10]
    seen = Calls(selector)
    single, batch = HTTPProvider.make_request, HTTPProvider.make_batch_request

    def make_request(self: HTTPProvider, method: Any, params: Any) -> Any:
        seen.alone += seen.replays([(method, params)])
        return single(self, method, params)

    def make_batch_request(self: HTTPProvider, batch_requests: Any) -> Any:
        seen.note_batch(batch_requests)
        return batch(self, batch_requests)

    monkeypatch.setattr(HTTPProvider, "make_request", make_request)
    monkeypatch.setattr(HTTPProvider, "make_batch_request", make_batch_request)
    yield seen


def test_every_bodys_preflight_goes_in_one_batch_request(env: Env, calls: Calls) -> None:
    others = [env.add_body(f"Commune {n}") for n in range(4)]
    for body in (env.bodies[0], *others):
        env.take(2, body.integrator)
    submitter = env.submitter(confirmations=1)
    submitter.step()
    assert calls.batches == [5] and calls.alone == 0
    (entry,) = env.store.outbox_of_batch(1)
    assert len(entry.batch_ids) == 5
    run(env, submitter, 2)
    assert {b.state for b in env.store.list_batches()} == {BatchState.ANCHORED}


def test_a_body_refused_in_the_batch_is_replayed_alone_and_held(env: Env, calls: Calls) -> None:
    retired, forged = env.add_body("Commune de Bous"), env.add_body("Commune de Dalheim")
    send(env.w3, env.admin, env.registry.contract.functions.retireKey(retired.anchoring.address))
    env.keyring.add(ImpostorSigner(forged.anchoring.address))
    for body in (env.bodies[0], retired, forged):
        env.take(2, body.integrator)
    submitter = env.submitter(confirmations=1)
    submitter.step()
    # One batch of three replays, then the two refused ones alone: that says why.
    assert calls.batches == [3] and calls.alone == 2
    (entry,) = env.store.outbox_of_batch(batch_of(env, env.bodies[0]))
    assert entry.batch_ids == (batch_of(env, env.bodies[0]),)
    for body, cause in ((retired, "key_not_valid"), (forged, "bad_signature")):
        batch = env.store.get_batch(batch_of(env, body))
        assert batch is not None and batch.state == BatchState.FROZEN
        assert batch.failure_reason == cause


def test_a_node_without_batch_requests_gets_each_preflight_alone(
    env: Env, calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: HTTPProvider, batch_requests: Any) -> Any:
        calls.note_batch(batch_requests)
        return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "no batches"}}

    monkeypatch.setattr(HTTPProvider, "make_batch_request", refuse)
    other = env.add_body("Syndicat SIGI")
    env.take(2)
    env.take(2, other.integrator)
    submitter = env.submitter(confirmations=1)
    submitter.step()
    assert calls.batches == [2] and calls.alone == 2
    run(env, submitter, 2)
    assert {b.state for b in env.store.list_batches()} == {BatchState.ANCHORED}


def test_a_node_that_dies_in_the_batch_request_signs_nothing_and_the_next_step_sends(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = HTTPProvider.make_batch_request

    def dead(self: HTTPProvider, batch_requests: Any) -> Any:
        raise requests.ConnectionError("connection refused")

    monkeypatch.setattr(HTTPProvider, "make_batch_request", dead)
    other = env.add_body("Syndicat SIGI")
    env.take(2)
    env.take(2, other.integrator)
    submitter = env.submitter(confirmations=1)
    submitter.step()
    assert env.metrics.failures.labels(cause="rpc")._value.get() == 1
    assert env.store.outbox_of_batch(1) == [] and env.store.outbox_of_batch(2) == []
    assert {b.state for b in env.store.list_batches()} == {BatchState.FROZEN}
    monkeypatch.setattr(HTTPProvider, "make_batch_request", batch)
    run(env, submitter, 3)
    assert {b.state for b in env.store.list_batches()} == {BatchState.ANCHORED}
