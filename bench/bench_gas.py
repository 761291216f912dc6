"""Gas of anchoring on registry v2, on a fresh anvil: direct, and relayed 1, 20 and 100 a call.

Starts its own anvil, deploys the committed artifact, registers ``--bodies`` bodies (one anchoring
key each), then measures the ``gasUsed`` of mined transactions:

- a direct ``anchor(root, n)`` sent by a body's anchoring key (the target: at most 55,000);
- ``anchorSigned`` carrying 1, 20 and 100 roots signed by distinct bodies' keys (EIP-712), sent by a
  relayer that holds no role; per root = the transaction's gas / roots (the target at 20: at most
  32,000).

Every figure is a fresh root of a fresh (body, root) slot, the expensive case. The ratio column is
against the issue's budget.

    .venv/bin/python bench/bench_gas.py [--bodies 100] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.registry import (
    REGISTRAR_ROLE,
    Kind,
    Names,
    Purpose,
    SignedAnchor,
    deploy_registry,
    fee_fields,
    sign_anchor,
)

DIRECT_BUDGET = 55_000
RELAYED_BUDGET = 32_000


def send(w3: Web3, account: LocalAccount, call: Any, gas: int | None = None) -> dict[str, Any]:
    """Send a contract call and return its receipt; raise on a revert."""
    fields: dict[str, Any] = {
        "from": account.address,
        "nonce": w3.eth.get_transaction_count(account.address),
        **fee_fields(w3),
    }
    if gas is not None:
        fields["gas"] = gas
    tx = call.build_transaction(fields)
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    receipt = dict(w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60))
    if receipt["status"] != 1:
        raise RuntimeError(f"transaction {tx_hash.hex()} reverted")
    return receipt


def register_bodies(
    w3: Web3, registry: Contract, admin: LocalAccount, count: int
) -> list[LocalAccount]:
    """Register ``count`` bodies with one fresh anchoring key each; return the keys."""
    keys: list[LocalAccount] = []
    for i in range(count):
        key: LocalAccount = Account.create()
        names = Names(f"Commune {i + 1}", f"Gemeinde {i + 1}", f"Municipality {i + 1}")
        send(
            w3,
            admin,
            registry.functions.registerBody(Kind.COMMUNE, f"{1000 + i}", names.as_tuple()),
        )
        send(w3, admin, registry.functions.addKey(i + 1, key.address, Purpose.ANCHORING, 0, 0))
        keys.append(key)
    return keys


def relayed(
    w3: Web3, registry: Contract, relayer: LocalAccount, keys: list[LocalAccount], chain_id: int
) -> int:
    """gasUsed of one anchorSigned carrying one fresh root per key."""
    deadline = int(time.time()) + 3600
    items: list[SignedAnchor] = [
        sign_anchor(
            key, chain_id, registry.address, os.urandom(32), 1024, relayer.address, deadline
        )
        for key in keys
    ]
    call = registry.functions.anchorSigned(deadline, [a.as_tuple() for a in items])
    return int(send(w3, relayer, call, gas=30_000_000)["gasUsed"])


def measure(bodies: int) -> list[dict[str, Any]]:
    """Run the measurements on a fresh anvil; return one row per case."""
    with Anvil(accounts=3) as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        admin = Account.from_key(dev_key(0))
        relayer = Account.from_key(dev_key(1))
        address, _ = deploy_registry(w3, admin)
        registry = w3.eth.contract(address=Web3.to_checksum_address(address), abi=_abi())
        send(w3, admin, registry.functions.grantRole(REGISTRAR_ROLE, admin.address))
        keys = register_bodies(w3, registry, admin, max(bodies, 100))
        fund = {"value": Web3.to_wei(1, "ether")}
        for key in keys[:1]:
            tx = {
                "to": key.address,
                "from": admin.address,
                "nonce": w3.eth.get_transaction_count(admin.address),
                "gas": 21_000,
                "chainId": anvil.chain_id,
                **fund,
                **fee_fields(w3),
            }
            w3.eth.wait_for_transaction_receipt(
                w3.eth.send_raw_transaction(admin.sign_transaction(tx).raw_transaction)
            )
        direct = int(send(w3, keys[0], registry.functions.anchor(os.urandom(32), 1024))["gasUsed"])
        rows = [_row("direct anchor(root, n)", 1, direct, DIRECT_BUDGET)]
        for n in (1, 20, 100):
            gas = relayed(w3, registry, relayer, keys[:n], anvil.chain_id)
            budget = RELAYED_BUDGET if n == 20 else None
            rows.append(_row(f"anchorSigned, {n} bodies", n, gas, budget))
        return rows


def _row(case: str, roots: int, gas: int, budget: int | None) -> dict[str, Any]:
    per_root = gas / roots
    return {
        "case": case,
        "roots": roots,
        "gas": gas,
        "per_root": round(per_root),
        "budget": budget,
        "ratio": round(per_root / budget, 3) if budget else None,
    }


def _abi() -> list[dict[str, Any]]:
    from anchor.chain.registry import load_artifact

    return load_artifact().abi


def main() -> None:
    """Print the table (or JSON)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bodies", type=int, default=100, help="bodies to register (at least 100)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    rows = measure(args.bodies)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'case':<28} {'roots':>5} {'gas':>10} {'per root':>9} {'budget':>7} {'ratio':>6}")
    for r in rows:
        budget = f"{r['budget']:,}" if r["budget"] else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
        figures = f"{r['roots']:>5} {r['gas']:>10,} {r['per_root']:>9,} {budget:>7} {ratio:>6}"
        print(f"{r['case']:<28} {figures}")


if __name__ == "__main__":
    main()
