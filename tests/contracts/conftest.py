"""Fixtures of the registry v2 contract tests: one deployed world per session (roles and three
bodies, `tests.support.registry_v2.deploy_world`), reverted to its deployed state after each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import Web3

from anchor.chain.devchain import Anvil
from tests.support.registry_v2 import World, deploy_world, rpc


@pytest.fixture(scope="session")
def deployed_world(anvil: Anvil, w3: Web3) -> World:
    """Registry v2 deployed once per session, with its role holders and three bodies."""
    return deploy_world(w3, anvil.chain_id)


@pytest.fixture
def env(w3: Web3, deployed_world: World) -> Iterator[World]:
    """The session's world, reverted to its deployed state (and automining) after the test."""
    snapshot = rpc(w3, "evm_snapshot")
    bodies = list(deployed_world.bodies)
    try:
        yield deployed_world
    finally:
        rpc(w3, "evm_setAutomine", [True])
        assert rpc(w3, "evm_revert", [snapshot]) is True
        deployed_world.bodies[:] = bodies


@pytest.fixture
def manual_mining(w3: Web3, env: World) -> Iterator[World]:
    """The world with automine off: transactions wait in the mempool until `evm_mine`."""
    rpc(w3, "evm_setAutomine", [False])
    try:
        yield env
    finally:
        rpc(w3, "anvil_dropAllTransactions")
        rpc(w3, "evm_setAutomine", [True])
