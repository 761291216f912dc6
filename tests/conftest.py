"""Shared fixtures: a real anvil node per test session and a freshly deployed registry v2 with
two issuing bodies (`tests.support.bodies`): "Commune de Contern", whose anchoring key is the
``issuer`` account, and the syndicate SIGI (``issuer2``).

Chain tests isolate themselves with ``evm_snapshot``/``evm_revert`` around each test through the
`registry` fixture, so one node serves the whole session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from eth_account import Account
from web3 import Web3

from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.registry import Registry
from tests.support.bodies import Bodies, Body, World, deploy_with_bodies
from tests.support.chain import Accounts


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    """A real anvil node on a free port, for the whole session."""
    with Anvil() as node:
        yield node


@pytest.fixture(scope="session")
def w3(anvil: Anvil) -> Web3:
    """A web3 client of the session's anvil node."""
    return Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 30}))


@pytest.fixture(scope="session")
def accounts() -> Accounts:
    """The development accounts, by role."""
    keys = [Account.from_key(dev_key(i)) for i in range(5)]
    return Accounts(*keys)


@pytest.fixture(scope="session")
def world(w3: Web3, accounts: Accounts) -> World:
    """The registry deployed once per session, with its two bodies and a revoker."""
    return deploy_with_bodies(w3, accounts)


@pytest.fixture(scope="session")
def deployed(world: World) -> Registry:
    """The session's registry."""
    return world.registry


@pytest.fixture
def registry(w3: Web3, deployed: Registry) -> Iterator[Registry]:
    """The session's registry, reverted to its deployed state after the test."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield deployed
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


@pytest.fixture
def bodies(world: World, registry: Registry) -> Bodies:
    """The registrar's and revoker's actions, inside the `registry` fixture's snapshot."""
    return world.bodies


@pytest.fixture
def contern(world: World) -> Body:
    """The body "Commune de Contern", anchoring with the ``issuer`` account."""
    return world.contern


def pytest_report_header() -> str:
    ci = os.environ.get("CI") == "true"
    return f"PostgreSQL tests {'must run (CI=true)' if ci else 'skip when no server is running'}"
