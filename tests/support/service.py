"""Service helpers: one test's chain, registry, store and submitter (`Env`), and `make_env`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from anchor.chain.client import ChainClient
from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.registry import ISSUER_ROLE, Registry, deploy_registry
from anchor.service.batcher import close_batches
from anchor.service.intake import submit
from anchor.service.metrics import Metrics
from anchor.service.submitter import Submitter, SubmitterConfig
from anchor.store import Store, open_store
from tests.support.chain import send


@dataclass
class Env:
    """One test's chain, registry, store and submitter."""

    node: Anvil
    w3: Web3
    registry: Registry
    admin: LocalAccount
    issuer: LocalAccount
    store: Store
    integrator: int
    metrics: Metrics

    def submitter(self, rpc_urls: list[str] | None = None, **config: object) -> Submitter:
        """A submitter signing with the issuer key; ``config`` overrides the defaults."""
        values: dict[str, object] = {
            "chain_id": 31337,
            "confirmations": 2,
            "fee_mode": "eip1559",
            "priority_fee_gwei": 1.0,
            "max_fee_gwei": 100.0,
            "gas_limit": 120_000,
            "stuck_after": 3600.0,
        }
        values.update(config)
        chain = ChainClient(rpc_urls or [self.node.url], 31337, timeout=5)
        return Submitter(
            chain,
            self.issuer,
            self.registry.address,
            self.store,
            SubmitterConfig(**values),  # type: ignore[arg-type]
            self.metrics,
        )

    def take(self, count: int) -> list[str]:
        """Submit ``count`` random digests, close one batch; return the receipt ids."""
        receipts = submit(self.store, [os.urandom(32).hex() for _ in range(count)], self.integrator)
        close_batches(self.store, max_batch_size=count, max_batch_age=3600)
        return [r.id for r in receipts]

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` empty blocks."""
        self.w3.provider.make_request("anvil_mine", [hex(blocks)])  # type: ignore[arg-type]

    def rpc(self, method: str, *params: object) -> object:
        """A raw JSON-RPC call; raises on an error answer."""
        answer = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        assert "error" not in answer, answer
        return answer.get("result")

    def automine(self, on: bool) -> None:
        """Switch anvil's automine (off: transactions wait in the pool until `mine`)."""
        self.rpc("evm_setAutomine", on)


def deploy(node: Anvil) -> tuple[Web3, Registry]:
    """Deploy a registry on ``node`` and grant the issuer role to development key 1."""
    w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 30}))
    admin = Account.from_key(dev_key(0))
    address, _ = deploy_registry(w3, admin)
    registry = Registry(w3, address)
    issuer = Account.from_key(dev_key(1)).address
    send(w3, admin, registry.contract.functions.grantRole(ISSUER_ROLE, issuer))
    return w3, registry


def env_on(
    tmp_path: Path, node: Anvil, w3: Web3, registry: Registry, store_url: str | None = None
) -> Env:
    """An Env on an already deployed ``registry``, with a fresh store (SQLite by default)."""
    store = open_store(store_url or f"sqlite:///{tmp_path / 'anchor.db'}", migrate=True)
    integrator = store.create_integrator("Commune de Contern").id
    admin, issuer = Account.from_key(dev_key(0)), Account.from_key(dev_key(1))
    return Env(node, w3, registry, admin, issuer, store, integrator, Metrics())


def make_env(tmp_path: Path, node: Anvil, store_url: str | None = None) -> Env:
    """Deploy a registry on ``node`` with an issuer; open a fresh store (SQLite by default)."""
    w3, registry = deploy(node)
    return env_on(tmp_path, node, w3, registry, store_url)
