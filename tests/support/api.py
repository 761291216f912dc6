"""API helpers: a dead RPC URL, the keys of the API suite, the client factory's type, and a
batch anchored by hand for the API's chain tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from web3 import Web3

from anchor.chain.registry import Registry
from anchor.service.batcher import close_batches
from anchor.store import Store
from anchor.store.records import Batch
from tests.support.chain import send

DEAD_RPC = "http://127.0.0.1:1"
"""An RPC URL nothing listens on: connections are refused at once."""


@dataclass(frozen=True)
class Keys:
    """API keys of two integrators; ``headers(...)`` builds the Authorization header."""

    integrator: int
    submit: str
    read: str
    both: str
    admin: str
    other: str

    @staticmethod
    def headers(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


MakeClient = Callable[..., TestClient]


def anchor_pending(
    store: Store, w3: Web3, key: LocalAccount, registry: Registry, count: int
) -> Batch:
    """Close the batch of the ``count`` pending receipts, anchor its root with ``key`` (a direct
    ``anchor``), and mark it submitted and anchored in the store, as the submitter would."""
    (batch_id,) = close_batches(store, max_batch_size=count, max_batch_age=3600)
    batch = store.get_batch(batch_id)
    assert batch is not None
    receipt = send(w3, key, registry.contract.functions.anchor(batch.root, batch.leaf_count))
    tx_hash = bytes(receipt["transactionHash"])  # type: ignore[arg-type]
    store.mark_batch_submitted(batch_id, tx_hash)
    store.mark_batch_anchored(
        batch_id,
        tx_hash,
        int(receipt["blockNumber"]),  # type: ignore[call-overload]
        bytes(receipt["blockHash"]),  # type: ignore[arg-type]
    )
    return batch
