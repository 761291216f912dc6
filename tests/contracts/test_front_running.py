"""Front-running on registry v2, with anvil's automine off: an attacker reads a victim's pending
anchoring transaction from the mempool and sends the same call data first, with a higher tip.

A direct anchor copied by another body's anchoring key lands, but under the attacker's own body:
the victim's anchor is recorded under the victim's body with the victim's key, and the attacker
can neither claim nor revoke it. A relayed call copied from the mempool and sent from another
account reverts (each signature names its relayer); the relayer's own transaction lands.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from web3 import Web3

from anchor.chain.eip712 import anchor_digest
from tests.support.registry_v2 import (
    World,
    assert_logs,
    assert_mined_revert,
    assert_reverts,
    pending_to,
    recover,
    root_of,
    rpc,
    send,
    send_data,
)

pytestmark = pytest.mark.chain

GWEI = 10**9


def _victim_fees(w3: Web3) -> dict[str, int]:
    base = int(w3.eth.get_block("latest")["baseFeePerGas"])
    return {"maxFeePerGas": 2 * base + GWEI, "maxPriorityFeePerGas": GWEI}


def _outbid(tx: dict[str, Any]) -> dict[str, int]:
    """Fees above those of the pending ``tx``, to be mined before it."""
    return {
        "maxFeePerGas": int(tx["maxFeePerGas"], 16) + 10 * GWEI,
        "maxPriorityFeePerGas": int(tx["maxPriorityFeePerGas"], 16) + 10 * GWEI,
    }


def _copy_pending(w3: Web3, env: World, sender: str) -> dict[str, Any]:
    """The one pending transaction from ``sender`` to the registry, seen two ways."""
    (tx,) = [t for t in pending_to(w3, env.registry.address) if t["from"].lower() == sender.lower()]
    pending_block = w3.eth.get_block("pending", full_transactions=True)
    transactions = cast(list[dict[str, Any]], pending_block["transactions"])
    inputs = [Web3.to_hex(t["input"]) for t in transactions]
    assert tx["input"] in inputs
    return tx


def _mine_and_receipts(w3: Web3, *hashes: bytes) -> list[dict[str, Any]]:
    rpc(w3, "evm_mine")
    receipts = [dict(w3.eth.get_transaction_receipt(h)) for h in hashes]  # type: ignore[arg-type]
    assert len({r["blockNumber"] for r in receipts}) == 1, "all in the same block"
    return receipts


def test_a_copied_direct_anchor_lands_under_the_attackers_own_body(manual_mining: World) -> None:
    env = manual_mining
    w3 = env.w3
    victim, attacker = env.bodies[0], env.bodies[1]
    root = root_of("victims-batch")
    sent = send(
        w3,
        victim.anchoring,
        env.fns.anchor(root, 250),
        fees=_victim_fees(w3),
        wait=False,
    )
    tx = _copy_pending(w3, env, victim.anchoring.address)
    stolen = send_data(w3, attacker.anchoring, env.registry.address, tx["input"], _outbid(tx))
    theirs, ours = _mine_and_receipts(w3, stolen, sent["transactionHash"])
    # The attacker went first, and both landed.
    assert theirs["transactionIndex"] < ours["transactionIndex"]
    assert theirs["status"] == ours["status"] == 1
    assert_logs(env.contract, ours, ("RootAnchored", {"bodyId": victim.id, "root": root}))
    assert_logs(env.contract, theirs, ("RootAnchored", {"bodyId": attacker.id, "root": root}))
    t = int(w3.eth.get_block(ours["blockNumber"])["timestamp"])
    assert env.fns.anchorOf(victim.id, root).call() == (victim.anchoring.address, t, 250)
    assert env.fns.anchorOf(attacker.id, root).call() == (attacker.anchoring.address, t, 250)
    # What a verifier reads through the victim's key is the victim's body and key.
    s = env.registry.status(victim.anchoring.address, root, [], root)
    assert (s.body_id, s.key, s.authorised, s.code, s.name_at_anchor) == (
        victim.id,
        victim.anchoring.address,
        True,
        victim.code,
        victim.names,
    )
    # The attacker cannot revoke the victim's root, with either of its keys.
    for key in (attacker.anchoring, attacker.status):
        assert_reverts(
            env.fns.revokeRoot(victim.id, root, 1),
            key.address,
            "RegistryUnauthorizedActor",
            key.address,
            victim.id,
        )
        assert_reverts(
            env.fns.revokeDocument(victim.id, root, [], root, 1),
            key.address,
            "RegistryUnauthorizedActor",
            key.address,
            victim.id,
        )


def test_a_copied_relayed_call_reverts_and_the_relayers_lands(manual_mining: World) -> None:
    env = manual_mining
    w3 = env.w3
    b1, attacker, b3 = env.bodies
    deadline = env.deadline()
    items = [
        env.sign(b1.anchoring, root_of("relayed-1"), 10, deadline),
        env.sign(b3.anchoring, root_of("relayed-3"), 30, deadline),
    ]
    sent = send(w3, env.relayer, env.relay_call(deadline, items), fees=_victim_fees(w3), wait=False)
    tx = _copy_pending(w3, env, env.relayer.address)
    stolen = send_data(w3, attacker.anchoring, env.registry.address, tx["input"], _outbid(tx))
    theirs, ours = _mine_and_receipts(w3, stolen, sent["transactionHash"])
    assert theirs["transactionIndex"] < ours["transactionIndex"]
    # The copy recovers, for its first item, an address that is no key.
    digest = anchor_digest(
        env.chain_id,
        env.registry.address,
        items[0].root,
        10,
        attacker.anchoring.address,
        deadline,
    )
    assert_mined_revert(w3, theirs, "RegistryUnknownKey", recover(digest, items[0].r, items[0].vs))
    assert theirs["logs"] == []
    assert ours["status"] == 1
    packed = b"".join(
        b.id.to_bytes(4, "big") + i.root for b, i in zip((b1, b3), items, strict=True)
    )
    assert_logs(
        env.contract, ours, ("RootsAnchored", {"relayer": env.relayer.address, "anchors": packed})
    )
    t = int(w3.eth.get_block(ours["blockNumber"])["timestamp"])
    assert env.fns.anchorOf(b1.id, items[0].root).call() == (b1.anchoring.address, t, 10)
    assert env.fns.anchorOf(b3.id, items[1].root).call() == (b3.anchoring.address, t, 30)
    for item in items:
        assert not env.registry.anchor_of(attacker.id, item.root).anchored
