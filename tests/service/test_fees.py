"""Issue 14 (2, 3): the fee mode checked against the chain, fee refusals, replacements priced from
the chain's current fees. On a real anvil that charges a base fee, as a private network may."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anchor.chain.devchain import dev_key
from anchor.chain.fees import (
    GWEI,
    Fees,
    check_fee_mode,
    fee_fields,
    initial_fees,
    is_fee_refusal,
    latest_base_fee,
    replacement_fees,
)
from anchor.chain.keystore import create_keystore
from anchor.errors import ConfigError
from anchor.types import BatchState, OutboxState
from tests.support.service import Env

ANCHOR = str(Path(sys.executable).parent / "anchor")


@pytest.mark.chain
def test_zero_fee_mode_on_a_chain_with_a_base_fee_stops_the_worker_with_one_sentence(
    env: Env, tmp_path: Path
) -> None:
    keystore = tmp_path / "signer.json"
    create_keystore(keystore, "worker password", dev_key(1), iterations=2**10)
    result = subprocess.run(
        [ANCHOR, "worker", "--once"],
        env={
            "PATH": "/usr/bin:/bin",
            "ANCHOR_RPC_URLS": env.node.url,
            "ANCHOR_CHAIN_ID": "31337",
            "ANCHOR_REGISTRY_ADDRESS": env.registry.address,
            "ANCHOR_KEYSTORE_PATH": str(keystore),
            "ANCHOR_KEYSTORE_PASSWORD": "worker password",
            "ANCHOR_DATA_DIR": str(tmp_path),
            "ANCHOR_FEE_MODE": "zero",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    # One sentence, the last line (JSON log lines such as "connected to node" may come before).
    lines = result.stderr.strip().splitlines()
    (line,) = [row for row in lines if row.startswith("error:")]
    assert line == lines[-1]
    assert line.startswith("error: ANCHOR_FEE_MODE=zero, but chain 31337 charges a base fee")
    assert line.endswith("set ANCHOR_FEE_MODE=eip1559")


def test_check_fee_mode() -> None:
    check_fee_mode("zero", 0, 1337)
    check_fee_mode("eip1559", 0, 1337)
    check_fee_mode("eip1559", 7, 1337)
    with pytest.raises(ConfigError, match="charges a base fee of 7 wei"):
        check_fee_mode("zero", 7, 1337)


@pytest.mark.chain
def test_a_fee_refusal_is_a_hold_not_a_failover(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    env.take(2)
    # As if the start-up check had been bypassed: zero-price transactions on a fee-charging chain.
    submitter = env.submitter(fee_mode="zero")
    with caplog.at_level(logging.WARNING, logger="anchor.service"):
        for _ in range(3):
            submitter.step()
    assert env.metrics.failures.labels(cause="rpc")._value.get() == 0
    assert env.metrics.failures.labels(cause="fee_too_low")._value.get() >= 1
    assert env.metrics.held.labels(cause="fee_too_low")._value.get() == 1
    assert submitter.chain._w3 is not None  # never invalidated: the node is fine
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "failing over" in m]
    assert len([m for m in messages if m.startswith("submission held (fee_too_low)")]) == 1


@pytest.mark.chain
def test_a_stored_zero_price_transaction_is_fixed_in_one_step(env: Env) -> None:
    env.take(2)
    env.submitter(fee_mode="zero").step()  # the node refuses it; it stays in the outbox
    (stored,) = env.store.outbox_of_batch(1)
    assert stored.gas_price == 0 and stored.state == OutboxState.SIGNED
    # The operator switches to eip1559 and restarts; the stuck timer has not run out.
    submitter = env.submitter(fee_mode="eip1559", stuck_after=3600, confirmations=1)
    submitter.step()
    old, new = env.store.outbox_of_batch(1)
    assert old.state == OutboxState.REPLACED and new.nonce == stored.nonce
    assert new.state == OutboxState.BROADCAST
    assert new.max_fee_per_gas is not None and new.max_fee_per_gas >= latest_base_fee(env.w3)
    env.mine()
    submitter.step()
    batch = env.store.get_batch(1)
    assert batch is not None and batch.state == BatchState.ANCHORED and batch.tx_hash == new.tx_hash


def test_replacement_is_priced_from_the_current_base_fee() -> None:
    base = 40 * GWEI
    fresh = initial_fees("eip1559", base, 1.0, 500.0)
    # A stored transaction priced at 1 wei: one step reaches what the chain accepts now.
    tiny = replacement_fees(Fees("eip1559", 1, 1), "eip1559", base, 1.0, 500.0)
    assert tiny == fresh and tiny.max_fee_per_gas >= base
    # A zero-price legacy one, after a switch to eip1559.
    assert replacement_fees(Fees("zero"), "eip1559", base, 1.0, 500.0) == fresh
    # A well-priced one is raised by at least 12.5% on both fields.
    high = Fees("eip1559", 200 * GWEI, 5 * GWEI)
    bumped = replacement_fees(high, "eip1559", base, 1.0, 500.0)
    assert bumped.max_fee_per_gas >= high.max_fee_per_gas * 1.125
    assert bumped.max_priority_fee_per_gas >= high.max_priority_fee_per_gas * 1.125
    # The cap holds; a free-gas chain in zero mode has nothing to raise.
    capped = replacement_fees(Fees("eip1559", 90 * GWEI, GWEI), "eip1559", 10**12, 1.0, 100.0)
    assert capped.max_fee_per_gas == 100 * GWEI
    assert replacement_fees(Fees("zero"), "zero", 0, 1.0, 100.0) == Fees("zero")


@given(
    st.integers(0, 10**12),
    st.integers(0, 10**12),
    st.integers(0, 10**11),
    st.integers(0, 10**3),
)
def test_a_replacement_never_prices_below_its_predecessor_or_the_chain(
    base: int, max_fee: int, tip: int, priority_gwei: int
) -> None:
    previous = Fees("eip1559", max(max_fee, tip), tip)
    cap_gwei = 10**4
    new = replacement_fees(previous, "eip1559", base, priority_gwei, cap_gwei)
    fresh = initial_fees("eip1559", base, priority_gwei, cap_gwei)
    assert new.max_priority_fee_per_gas >= max(fresh.max_priority_fee_per_gas, tip + 1)
    assert new.max_fee_per_gas >= new.max_priority_fee_per_gas
    if previous.max_fee_per_gas * 1.125 + 1 <= cap_gwei * GWEI:
        assert new.max_fee_per_gas >= previous.max_fee_per_gas * 1.125
    assert new.max_fee_per_gas >= min(fresh.max_fee_per_gas, cap_gwei * GWEI)


@pytest.mark.chain
def test_fee_fields_is_the_one_policy(env: Env) -> None:
    base = latest_base_fee(env.w3)
    assert base > 0
    assert fee_fields(env.w3) == {
        "maxFeePerGas": 2 * base + GWEI,
        "maxPriorityFeePerGas": GWEI,
    }
    from anchor.chain import registry

    assert registry.fee_fields(env.w3) == fee_fields(env.w3)


@pytest.mark.parametrize(
    "message",
    [
        "max fee per gas less than block base fee",
        "transaction underpriced",
        "replacement transaction underpriced",
        "Gas price below configured minimum gas price",
        "err: max fee per gas less than block base fee: address 0x.., maxFeePerGas: 0",
    ],
)
def test_fee_refusals_are_recognised(message: str) -> None:
    assert is_fee_refusal(message)
    assert not is_fee_refusal("nonce too low")


@pytest.mark.chain
def test_an_unfunded_relayer_holds_until_funded(env: Env) -> None:
    from eth_account import Account

    poor = Account.create()  # a relayer needs no role, only funds
    env.relayer = poor
    ids = env.take(2)
    submitter = env.submitter(confirmations=0)
    submitter.step()
    submitter.step()
    assert env.metrics.held.labels(cause="insufficient_funds")._value.get() == 1
    assert env.metrics.failures.labels(cause="rpc")._value.get() == 0
    assert env.store.get_batch(1).state == BatchState.SUBMITTED  # type: ignore[union-attr]
    fund = {
        "to": poor.address,
        "value": 10**18,
        "gas": 21_000,
        "nonce": env.w3.eth.get_transaction_count(env.admin.address),
        "chainId": 31337,
        **fee_fields(env.w3),
    }
    env.w3.eth.send_raw_transaction(env.admin.sign_transaction(fund).raw_transaction)
    for _ in range(3):
        submitter.step()
    assert env.store.get_batch(1).state == BatchState.ANCHORED  # type: ignore[union-attr]
    assert env.metrics.held.labels(cause="insufficient_funds")._value.get() == 0
    assert env.store.get_receipt(ids[0]).state == "anchored"  # type: ignore[union-attr]
