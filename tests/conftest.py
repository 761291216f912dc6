"""Shared fixtures: a real anvil node per test session and a freshly deployed registry.

Chain tests isolate themselves with ``evm_snapshot``/``evm_revert`` around each test through the
`registry` fixture, so one node serves the whole session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.registry import ISSUER_ROLE, REVOKER_ROLE, Registry, deploy_registry, fee_fields


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    """A real anvil node on a free port, for the whole session."""
    with Anvil() as node:
        yield node


@pytest.fixture(scope="session")
def w3(anvil: Anvil) -> Web3:
    """A web3 client of the session's anvil node."""
    return Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 30}))


@dataclass(frozen=True)
class Accounts:
    """Named development accounts (anvil's public test keys)."""

    admin: LocalAccount
    issuer: LocalAccount
    revoker: LocalAccount
    other: LocalAccount
    issuer2: LocalAccount


@pytest.fixture(scope="session")
def accounts() -> Accounts:
    """The development accounts, by role."""
    keys = [Account.from_key(dev_key(i)) for i in range(5)]
    return Accounts(*keys)


def send(w3: Web3, account: LocalAccount, call: object) -> dict[str, object]:
    """Sign and send a contract call with ``account``; return the receipt (reverts raise)."""
    tx = call.build_transaction(  # type: ignore[attr-defined]
        {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address),
            **fee_fields(w3),
        }
    )
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    return dict(w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30))


@pytest.fixture(scope="session")
def deployed(w3: Web3, accounts: Accounts) -> Registry:
    """The registry deployed once per session, with an issuer and a revoker granted."""
    address, _ = deploy_registry(w3, accounts.admin)
    registry = Registry(w3, address)
    send(
        w3,
        accounts.admin,
        registry.contract.functions.grantRole(ISSUER_ROLE, accounts.issuer.address),
    )
    send(
        w3,
        accounts.admin,
        registry.contract.functions.grantRole(REVOKER_ROLE, accounts.revoker.address),
    )
    send(
        w3,
        accounts.admin,
        registry.contract.functions.setIssuerName(accounts.issuer.address, "Commune de Contern"),
    )
    return registry


@pytest.fixture
def registry(w3: Web3, deployed: Registry) -> Iterator[Registry]:
    """The session's registry, reverted to its deployed state after the test."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield deployed
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


def pytest_report_header() -> str:
    ci = os.environ.get("CI") == "true"
    return f"PostgreSQL tests {'must run (CI=true)' if ci else 'skip when no server is running'}"
