"""Changes made in the same block (the same second) as an anchor, just after it: what the
registry then says about that anchor. Times on chain have a one-second grain and several
transactions (on anvil, several blocks) share a second, so the registry cannot order them within
it. It decides (docs/registry.md, "Anchors, keys and names in one second"):

- a key retired at second t is not valid at t: an anchor made earlier in that second is reported
  not authorised (the safe side: a retired key never anchors with authority in its last second);
- names given at second t apply from t on: an anchor made earlier in that second shows them.
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


def test_an_anchor_in_the_second_of_its_keys_retirement_is_not_authorised(env: World) -> None:
    body = env.bodies[0]
    root = root_of("same-second-retire")
    _one_block(
        env,
        (body.anchoring, env.fns.anchor(root, 1)),
        (env.registrar, env.fns.retireKey(body.anchoring.address)),
    )
    status = env.registry.status(body.anchoring.address, root, [], root)
    assert status.anchored and not status.authorised


def test_a_rename_in_the_second_of_an_anchor_names_it(env: World) -> None:
    body = env.bodies[1]
    root = root_of("same-second-rename")
    new = Names("Syndicat SIGI renommé")
    _one_block(
        env,
        (body.anchoring, env.fns.anchor(root, 1)),
        (env.registrar, env.fns.renameBody(body.id, new.as_tuple(), 0)),
    )
    status = env.registry.status(body.anchoring.address, root, [], root)
    assert status.name_at_anchor == new != body.names
