"""Changes made in the same block (the same second) as an anchor, just after it: what the
registry then says about that anchor. Times on chain have a one-second grain, and several
transactions (on anvil, several blocks) share a second; the NatSpec promises that anchors made
before a retirement stay authorised and that earlier anchors keep the names they had.

Both cases below break that promise today, so they are strict xfails: a fix of the contract
turns them into failures to remove. See the report of issue 9 for the options (e.g. a key
retired at `t` stays valid through `t`; a rename made at `t` applies from `t + 1`), which
change what other parts of the stack see within a second and need the lead's decision.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from anchor.chain.registry import Names
from tests.support.registry_v2 import World, root_of, rpc, send

pytestmark = pytest.mark.chain

HIGH = {"maxFeePerGas": 60 * 10**9, "maxPriorityFeePerGas": 20 * 10**9}
LOW = {"maxFeePerGas": 60 * 10**9, "maxPriorityFeePerGas": 10**9}


def _one_block(env: World, first: tuple[LocalAccount, Any], then: tuple[LocalAccount, Any]) -> None:
    """Mine ``first`` and then ``then`` in one block (ordered by their tips)."""
    rpc(env.w3, "evm_setAutomine", [False])
    try:
        a = send(env.w3, first[0], first[1], fees=HIGH, wait=False)["transactionHash"]
        b = send(env.w3, then[0], then[1], fees=LOW, wait=False)["transactionHash"]
        rpc(env.w3, "evm_mine")
    finally:
        rpc(env.w3, "evm_setAutomine", [True])
    ra, rb = (env.w3.eth.get_transaction_receipt(h) for h in (a, b))
    assert ra["blockNumber"] == rb["blockNumber"]
    assert ra["transactionIndex"] < rb["transactionIndex"]
    assert ra["status"] == rb["status"] == 1


@pytest.mark.xfail(
    strict=True,
    reason="retireKey sets validUntil to now: an anchor earlier that second loses authorisation",
    raises=AssertionError,
)
def test_an_anchor_just_before_its_keys_retirement_stays_authorised(env: World) -> None:
    body = env.bodies[0]
    root = root_of("same-second-retire")
    _one_block(
        env,
        (body.anchoring, env.fns.anchor(root, 1)),
        (env.registrar, env.fns.retireKey(body.anchoring.address)),
    )
    assert env.registry.status(body.anchoring.address, root, [], root).authorised


@pytest.mark.xfail(
    strict=True,
    reason="a rename with since 0 applies from now: an anchor earlier that second takes its name",
    raises=AssertionError,
)
def test_an_anchor_just_before_a_rename_keeps_the_old_name(env: World) -> None:
    body = env.bodies[1]
    root = root_of("same-second-rename")
    new = Names("Syndicat SIGI renommé")
    _one_block(
        env,
        (body.anchoring, env.fns.anchor(root, 1)),
        (env.registrar, env.fns.renameBody(body.id, new.as_tuple(), 0)),
    )
    assert env.registry.status(body.anchoring.address, root, [], root).name_at_anchor == body.names
