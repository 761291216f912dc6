"""Fixtures of the service tests: one anvil node and registry per module, a store per test.

Reorg, rollback, drop and automine-off tests change the chain itself; ``evm_snapshot`` before
and ``evm_revert`` after each test undo it, so they share the node. Tests that restart or kill
a node start their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from anchor.chain.devchain import Anvil
from anchor.chain.registry import Registry
from tests.support.service import Env, deploy, env_on


@pytest.fixture(scope="module")
def service_chain() -> Iterator[tuple[Anvil, Web3, Registry]]:
    """One anvil node and registry for a test module; each test reverts what it did."""
    with Anvil() as node:
        w3, registry = deploy(node)
        yield node, w3, registry


@pytest.fixture
def env(tmp_path: Path, service_chain: tuple[Anvil, Web3, Registry]) -> Iterator[Env]:
    """The module's auto-mining anvil and registry (in a snapshot), and a fresh store.

    Reorgs, rollbacks, drops and automine off are all undone by ``evm_revert``.
    """
    node, w3, registry = service_chain
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    e = env_on(tmp_path, node, w3, registry)
    yield e
    e.store.close()
    e.automine(True)
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
