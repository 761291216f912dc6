"""JSON-RPC calls per public verification (`POST /v1/verify`), counted by a recording proxy.

Starts its own anvil, deploys the registry v2 with one body (development key 1 is its
anchoring key), anchors a one-document batch under it, then posts the same
bundle to `/v1/verify` ``--repeat`` times through the API (in process, TestClient) whose only
RPC URL is a recording proxy in front of anvil; prints the calls of the first verification, of
each repeated one, and per method.

    .venv/bin/python bench/bench_verify_rpc.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
from pathlib import Path

from eth_account import Account
from fastapi.testclient import TestClient
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.registry import (
    REGISTRAR_ROLE,
    Kind,
    Names,
    Purpose,
    Registry,
    deploy_registry,
    fee_fields,
)
from anchor.merkle.hashing import leaf_hash
from anchor.settings import load_settings
from anchor.store import open_store
from api.app import create_app
from tests.support.rpc_proxy import RecordingProxy


def _send(w3: Web3, key: str, call: object) -> dict[str, object]:
    account = Account.from_key(key)
    tx = call.build_transaction(  # type: ignore[attr-defined]
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address),
         **fee_fields(w3)}
    )  # fmt: skip
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    return dict(w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with Anvil() as node, RecordingProxy(node.url) as proxy, tempfile.TemporaryDirectory() as tmp:
        w3 = Web3(Web3.HTTPProvider(node.url))
        address, _ = deploy_registry(w3, Account.from_key(dev_key(0)))
        registry = Registry(w3, address)
        issuer = Account.from_key(dev_key(1)).address
        functions = registry.contract.functions
        admin = Account.from_key(dev_key(0)).address
        _send(w3, dev_key(0), functions.grantRole(REGISTRAR_ROLE, admin))
        names = Names("Commune de Contern").as_tuple()
        _send(w3, dev_key(0), functions.registerBody(Kind.COMMUNE, "LU-CONTERN", names))
        _send(w3, dev_key(0), functions.addKey(1, issuer, Purpose.ANCHORING, 0, 0))
        salt, digest = os.urandom(32), os.urandom(32)
        root = leaf_hash(salt, digest)
        receipt = _send(w3, dev_key(1), registry.contract.functions.anchor(root, 1))
        bundle = {
            "version": 1, "digest": "0x" + digest.hex(), "salt": "0x" + salt.hex(),
            "leaf": "0x" + root.hex(), "proof": [], "root": "0x" + root.hex(),
            "chainId": 31337, "registry": address.lower(),
            "txHash": "0x" + bytes(receipt["transactionHash"]).hex(),  # type: ignore[arg-type]
            "blockNumber": receipt["blockNumber"], "issuer": issuer.lower(),
            "anchoredAt": registry.anchor_of(1, root).anchored_at,
        }  # fmt: skip
        settings = load_settings(rpc_urls=[proxy.url], registry_address=address, data_dir=tmp)
        store = open_store(f"sqlite:///{tmp}/anchor.db", migrate=True)
        client = TestClient(create_app(settings, store))
        per_request: list[int] = []
        methods: collections.Counter[str] = collections.Counter()
        for _ in range(args.repeat):
            proxy.reset()
            answer = client.post("/v1/verify", json={"bundle": bundle})
            assert answer.json()["verdict"] == "valid", answer.text
            per_request.append(proxy.count())
            methods.update(proxy.methods())
        client.close()
        store.close()
    rest = per_request[1:]
    print(f"JSON-RPC calls per POST /v1/verify of the same bundle ({args.repeat} requests)")
    print(f"  first request:    {per_request[0]}")
    if rest:
        print(f"  later requests:   {sum(rest) / len(rest):.1f} on average (max {max(rest)})")
    print(f"  total:            {sum(per_request)}")
    for method, count in methods.most_common():
        print(f"    {method:28} {count}")


if __name__ == "__main__":
    main()
