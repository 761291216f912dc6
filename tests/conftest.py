"""Shared fixtures: a real anvil node per test session, a web3 client and the named accounts.

The registry v1 fixtures (`deployed`, `registry`) are gone with v1; registry v2 fixtures live
next to the tests that use them (tests/contracts/conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from eth_account import Account
from web3 import Web3

from anchor.chain.devchain import Anvil, dev_key
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


def pytest_report_header() -> str:
    ci = os.environ.get("CI") == "true"
    return f"PostgreSQL tests {'must run (CI=true)' if ci else 'skip when no server is running'}"
