"""The gas of a relayed list: estimated by the node once, then guessed and checked by one call
at the guessed gas; a guess that does not run, or above the cap, gets the node's estimate."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web3 import HTTPProvider

from anchor.service.relay_gas import GUESS_SLACK, GasGauge
from anchor.types import BatchState
from tests.service.test_bodies import run
from tests.support.service import Env


class Node:
    """A node whose lists of ``n`` anchors need ``base + per * n`` gas."""

    def __init__(self, base: int = 30_000, per: int = 28_000) -> None:
        self.base, self.per = base, per
        self.estimates: list[int] = []
        self.checks: list[int] = []
        self.eth = self
        self.provider = self

    def needs(self, call: dict[str, Any]) -> int:
        return self.base + self.per * int(call["anchors"])

    def estimate_gas(self, call: dict[str, Any]) -> int:
        self.estimates.append(int(call["anchors"]))
        return self.needs(call)

    def make_request(self, method: str, params: list[Any]) -> dict[str, Any]:
        assert method == "eth_call" and params[1] == "latest"
        gas = int(params[0]["gas"], 16)
        self.checks.append(gas)
        if gas < self.needs(params[0]):
            return {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "out of gas"}}
        return {"jsonrpc": "2.0", "id": 1, "result": "0x"}


def call(anchors: int) -> dict[str, Any]:
    return {"from": "0x" + "11" * 20, "to": "0x" + "22" * 20, "data": "0x", "anchors": anchors}


def test_the_first_list_is_estimated_a_longer_one_guessed_and_checked() -> None:
    node, gauge = Node(), GasGauge()
    assert gauge.gas_of(node, call(10), 10, 8_000_000) == node.needs(call(10))
    assert node.estimates == [10] and node.checks == []
    gas = gauge.gas_of(node, call(20), 20, 8_000_000)  # pro rata: over the need, and it runs
    assert node.estimates == [10] and node.checks == [gas] and gas >= node.needs(call(20))


def test_a_guess_that_does_not_run_gets_the_estimate_then_the_line_through_two() -> None:
    node, gauge = Node(), GasGauge()
    gauge.gas_of(node, call(20), 20, 8_000_000)
    # Pro rata from 20 anchors a list of 5 is under its need (the base is shared): refused.
    assert gauge.gas_of(node, call(5), 5, 8_000_000) == node.needs(call(5))
    assert node.estimates == [20, 5] and len(node.checks) == 1
    # Two estimates: the line through them, with its slack, runs at every size.
    for anchors in (1, 7, 33, 50):
        gas = gauge.gas_of(node, call(anchors), anchors, 8_000_000)
        assert node.needs(call(anchors)) <= gas <= node.needs(call(anchors)) * GUESS_SLACK + 1
    assert node.estimates == [20, 5]


def test_a_node_whose_cost_changed_is_estimated_again() -> None:
    node, gauge = Node(), GasGauge()
    gauge.gas_of(node, call(20), 20, 8_000_000)
    gauge.gas_of(node, call(5), 5, 8_000_000)
    node.per = 40_000  # dearer storage: every guess now falls short
    assert gauge.gas_of(node, call(10), 10, 8_000_000) == node.needs(call(10))
    assert node.estimates == [20, 5, 10]
    assert gauge.guess(10) == pytest.approx(node.needs(call(10)) * GUESS_SLACK, abs=1)


def test_a_guess_above_the_cap_is_not_used() -> None:
    node, gauge = Node(), GasGauge()
    gauge.gas_of(node, call(1), 1, 8_000_000)  # 58,000 an anchor, pro rata
    gauge.gas_of(node, call(40), 40, 40 * 30_000)  # the guess (2.3 M) is over: estimated
    assert node.estimates == [1, 40] and node.checks == []


@pytest.fixture
def methods(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
    """The JSON-RPC methods the provider sent alone, with their parameters."""
    seen: list[tuple[str, Any]] = []
    single = HTTPProvider.make_request

    def make_request(self: HTTPProvider, method: Any, params: Any) -> Any:
        seen.append((str(method), params))
        return single(self, method, params)

    monkeypatch.setattr(HTTPProvider, "make_request", make_request)
    yield seen


def test_on_anvil_the_second_list_is_checked_not_estimated_and_mined_within_its_gas(
    env: Env, methods: list[tuple[str, Any]]
) -> None:
    for n in range(3):
        env.add_body(f"Commune {n}")
    submitter = env.submitter(confirmations=1)
    env.take(2, env.bodies[0].integrator)
    submitter.step()  # one anchor: estimated by the node
    estimates = [m for m, _ in methods if m == "eth_estimateGas"]
    assert len(estimates) == 1
    run(env, submitter, 2)
    methods.clear()
    for body in env.bodies:
        env.take(2, body.integrator)
    submitter.step()  # four anchors: the guess, checked by one call at its gas
    assert [m for m, _ in methods if m == "eth_estimateGas"] == []
    checks = [p for m, p in methods if m == "eth_call" and "gas" in p[0]]
    assert len(checks) == 1
    run(env, submitter, 2)
    assert {b.state for b in env.store.list_batches()} == {BatchState.ANCHORED}
    for batch in env.store.list_batches():
        (entry,) = env.store.outbox_of_batch(batch.id)
        mined = env.w3.eth.get_transaction_receipt(entry.tx_hash)  # type: ignore[arg-type]
        tx = env.w3.eth.get_transaction(entry.tx_hash)  # type: ignore[arg-type]
        assert mined["status"] == 1 and mined["gasUsed"] * 1.25 <= tx["gas"]


def test_on_anvil_a_guess_too_low_is_caught_by_the_check_and_estimated(
    env: Env, methods: list[tuple[str, Any]]
) -> None:
    env.add_body("Commune de Bous")
    submitter = env.submitter(confirmations=1)
    submitter.selector.gas._points = {1: 21_000}  # a guess far under what an anchor needs
    for body in env.bodies:
        env.take(2, body.integrator)
    submitter.step()
    assert [m for m, _ in methods if m == "eth_estimateGas"] == ["eth_estimateGas"]
    run(env, submitter, 2)
    (batch, _) = env.store.list_batches()
    (entry,) = env.store.outbox_of_batch(batch.id)
    assert env.w3.eth.get_transaction_receipt(entry.tx_hash)["status"] == 1  # type: ignore[arg-type]
    assert {b.state for b in env.store.list_batches()} == {BatchState.ANCHORED}
