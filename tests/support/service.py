"""Service helpers: one test's chain, registry, store, bodies and submitter (`Env`).

`deploy` puts a v2 registry on a node with development key 0 as admin, registrar and pauser.
`env_on` opens a fresh store with ONE body ("Commune de Contern"), onboarded on chain, whose
anchoring and status keys are fresh random keys held in the env's `Keyring` (no keystore files:
`Keyring.add`), and one integrator bound to it. `Env.add_body` adds more. The relayer is
development key 1: it holds no role.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from anchor.chain.client import ChainClient
from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.onboard import onboard_body
from anchor.chain.registry import (
    PAUSER_ROLE,
    REGISTRAR_ROLE,
    Kind,
    Purpose,
    Registry,
    deploy_registry,
)
from anchor.chain.signer import Keyring, KeystoreSigner
from anchor.service.batcher import close_batches
from anchor.service.intake import submit
from anchor.service.metrics import Metrics
from anchor.service.submitter import Submitter, SubmitterConfig
from anchor.store import NewKey, Store, open_store
from anchor.types import IssuerKind, KeyPurpose
from tests.support.chain import send


@dataclass
class Body:
    """A body of the env: its store id, its integrator, its keys and its id on chain."""

    issuer_id: int
    integrator: int
    anchoring: LocalAccount
    status: LocalAccount
    body_id: int | None


@dataclass
class Env:
    """One test's chain, registry, store, bodies and submitter."""

    node: Anvil
    w3: Web3
    registry: Registry
    admin: LocalAccount
    relayer: LocalAccount
    store: Store
    integrator: int
    metrics: Metrics
    keyring: Keyring
    bodies: list[Body] = field(default_factory=list)

    def submitter(self, rpc_urls: list[str] | None = None, **config: object) -> Submitter:
        """A submitter relaying with development key 1; ``config`` overrides the defaults."""
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
            self.relayer,
            self.registry.address,
            self.store,
            SubmitterConfig(**values),  # type: ignore[arg-type]
            self.metrics,
            self.keyring,
        )

    def add_body(self, name: str, *, onboard: bool = True, fund: bool = True) -> Body:
        """A body with fresh keys (funded for direct mode), its integrator, on chain or not."""
        anchoring, status = Account.create(), Account.create()
        keys = [
            NewKey(KeyPurpose.ANCHORING, anchoring.address, f"keys/{anchoring.address}.json"),
            NewKey(KeyPurpose.STATUS, status.address, f"keys/{status.address}.json"),
        ]
        issuer = self.store.create_issuer(IssuerKind.COMMUNE, name, keys)
        self.keyring.add(KeystoreSigner(anchoring))
        integrator = self.store.create_integrator(f"{name} integrator", issuer.id).id
        if fund:
            for account in (anchoring, status):
                nonce = self.w3.eth.get_transaction_count(self.admin.address, "pending")
                tx = {
                    "to": account.address,
                    "value": 10**19,
                    "gas": 21_000,
                    "nonce": nonce,
                    "chainId": 31337,
                    "maxFeePerGas": 10**11,
                    "maxPriorityFeePerGas": 10**9,
                }
                self.w3.eth.send_raw_transaction(self.admin.sign_transaction(tx).raw_transaction)
        body = Body(issuer.id, integrator, anchoring, status, None)
        if onboard:
            body.body_id = self.onboard(body, name)
            self.store.set_chain_body_id(issuer.id, body.body_id)  # as the worker finds it
        self.bodies.append(body)
        return body

    def onboard(self, body: Body, name: str) -> int:
        """Register ``body`` and its two keys on chain (the registrar's job)."""
        return onboard_body(
            self.w3, KeystoreSigner(self.admin), self.registry, int(Kind.COMMUNE), "",
            (name, "", "", ""),
            [(body.anchoring.address, int(Purpose.ANCHORING)),
             (body.status.address, int(Purpose.STATUS))],
        )  # fmt: skip

    def write_keystores(self, password: str) -> None:
        """Write every body's anchoring keystore where a worker process looks for it."""
        import json

        from anchor.private_files import create_private

        for body in self.bodies:
            path = self.keyring.data_dir / "keys" / f"{body.anchoring.address}.json"
            if not path.exists():
                encrypted = Account.encrypt(body.anchoring.key, password, iterations=2**10)
                create_private(path, json.dumps(encrypted).encode())

    def take(self, count: int, integrator: int | None = None) -> list[str]:
        """Submit ``count`` random digests for an integrator (the first body's by default),
        close its batch; return the receipt ids."""
        digests = [os.urandom(32).hex() for _ in range(count)]
        receipts = submit(self.store, digests, integrator or self.integrator)
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
    """Deploy a v2 registry on ``node``; development key 0 is admin, registrar and pauser."""
    w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 30}))
    admin = Account.from_key(dev_key(0))
    address, _ = deploy_registry(w3, admin)
    registry = Registry(w3, address)
    for role in (REGISTRAR_ROLE, PAUSER_ROLE):
        send(w3, admin, registry.contract.functions.grantRole(role, admin.address))
    return w3, registry


def env_on(
    tmp_path: Path, node: Anvil, w3: Web3, registry: Registry, store_url: str | None = None
) -> Env:
    """An Env on an already deployed ``registry``, with a fresh store (SQLite by default) and
    one onboarded body."""
    store = open_store(store_url or f"sqlite:///{tmp_path / 'anchor.db'}", migrate=True)
    admin, relayer = Account.from_key(dev_key(0)), Account.from_key(dev_key(1))
    env = Env(node, w3, registry, admin, relayer, store, 0, Metrics(), Keyring(tmp_path, ""))
    env.integrator = env.add_body("Commune de Contern").integrator
    return env


def make_env(tmp_path: Path, node: Anvil, store_url: str | None = None) -> Env:
    """Deploy a registry on ``node``; open a fresh store with one onboarded body."""
    w3, registry = deploy(node)
    return env_on(tmp_path, node, w3, registry, store_url)
