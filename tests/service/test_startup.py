"""Start-up checks, settings, keystore, PoA middleware and metrics of the worker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3
from web3.exceptions import ExtraDataLengthError
from web3.providers.base import BaseProvider

from anchor.chain.client import ChainClient, check_registry, make_web3
from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.keystore import create_keystore, load_keystore
from anchor.errors import ChainError, ConfigError
from anchor.service.worker import Worker
from anchor.settings import load_settings
from tests.support.service import Env

ANCHOR = str(Path(sys.executable).parent / "anchor")

# A block in the shape Hyperledger Besu returns on a QBFT network. anvil cannot produce one (its
# extraData is at most 32 bytes), so this is the one mocked piece: its extraData is the RLP list
# [32-byte vanity, [validator addresses], vote, round, [committed seals]], 0xf8.. bytes long.
QBFT_EXTRA_DATA = (
    "0xf87aa00000000000000000000000000000000000000000000000000000000000000000"
    "d594c2ab482b506de561668e07f04547232a72897daf808400000000f843b841" + "ab" * 65
)
QBFT_BLOCK: dict[str, Any] = {
    "number": "0x1b4",
    "hash": "0x" + "11" * 32,
    "parentHash": "0x" + "22" * 32,
    "mixHash": "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365",
    "nonce": "0x0000000000000000",
    "sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
    "logsBloom": "0x" + "00" * 256,
    "transactionsRoot": "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
    "stateRoot": "0x" + "33" * 32,
    "receiptsRoot": "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
    "miner": "0xc2ab482b506de561668e07f04547232a72897daf",
    "difficulty": "0x1",
    "totalDifficulty": "0x1b5",
    "extraData": QBFT_EXTRA_DATA,
    "size": "0x2b1",
    "gasLimit": "0x1fffffffffffff",
    "gasUsed": "0x0",
    "timestamp": "0x6554a1c0",
    "baseFeePerGas": "0x0",
    "uncles": [],
    "transactions": [],
}


class RecordedProvider(BaseProvider):
    """Answers eth_getBlockByNumber with the QBFT block and eth_chainId with 1337."""

    def make_request(self, method: Any, params: Any) -> Any:
        answers = {"eth_getBlockByNumber": QBFT_BLOCK, "eth_chainId": "0x539"}
        return {"jsonrpc": "2.0", "id": 1, "result": answers[method]}


def test_qbft_block_needs_the_poa_middleware() -> None:
    assert len(bytes.fromhex(QBFT_EXTRA_DATA[2:])) > 32
    plain = Web3(RecordedProvider())
    with pytest.raises(ExtraDataLengthError):
        plain.eth.get_block("latest")
    poa = make_web3("http://127.0.0.1:9", poa=True)
    poa.provider = RecordedProvider()
    block = poa.eth.get_block("latest")
    assert block["number"] == 0x1B4
    assert block["proofOfAuthorityData"].hex() == QBFT_EXTRA_DATA[2:]  # type: ignore[union-attr]


def test_connect_names_every_unusable_node(env: Env) -> None:
    with Anvil(chain_id=999) as other, pytest.raises(ChainError) as caught:
        ChainClient(["http://127.0.0.1:9", other.url], 31337, timeout=2).get()
    message = str(caught.value)
    assert "http://127.0.0.1:9 did not answer" in message
    assert f"{other.url} is on chain 999, not 31337" in message
    client = ChainClient(["http://127.0.0.1:9", env.node.url], 31337, timeout=2)
    assert client.get().eth.chain_id == 31337


def test_check_registry_refuses_a_wrong_address(env: Env) -> None:
    assert check_registry(env.w3, env.registry.address).address == env.registry.address
    with pytest.raises(ConfigError, match="there is no contract at"):
        check_registry(env.w3, env.relayer.address)
    with pytest.raises(ConfigError, match="not set"):
        check_registry(env.w3, None)


def test_settings_fail_fast() -> None:
    with pytest.raises(ConfigError, match="registry_address"):
        load_settings(registry_address="0x1234")
    with pytest.raises(ConfigError, match="placeholder"):
        load_settings(keystore_password="changeme")
    with pytest.raises(ConfigError, match="rpc_urls"):
        load_settings(rpc_urls="ftp://node")
    assert load_settings(rpc_urls="http://a:1, http://b:2").rpc_urls == ["http://a:1", "http://b:2"]


def test_keystore_round_trip_and_refusals(tmp_path: Path) -> None:
    path = tmp_path / "signer.json"
    address = create_keystore(path, "correct horse battery", dev_key(3))
    assert address == Account.from_key(dev_key(3)).address
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert dev_key(3)[2:] not in path.read_text()
    assert load_keystore(path, "correct horse battery").address == address
    with pytest.raises(ConfigError, match="wrong password"):
        load_keystore(path, "wrong password!")
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        create_keystore(path, "correct horse battery")
    with pytest.raises(ConfigError, match="at least 8"):
        create_keystore(tmp_path / "other.json", "short")


def run_worker(env_vars: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ANCHOR, "worker", "--once"],
        env=env_vars,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_worker_refuses_to_start_on_a_mismatch_with_one_sentence(env: Env, tmp_path: Path) -> None:
    keystore = tmp_path / "signer.json"
    create_keystore(keystore, "worker password", dev_key(1), iterations=2**10)
    base = {
        "PATH": "/usr/bin:/bin",
        "ANCHOR_RPC_URLS": env.node.url,
        "ANCHOR_CHAIN_ID": "31337",
        "ANCHOR_REGISTRY_ADDRESS": env.registry.address,
        "ANCHOR_KEYSTORE_PATH": str(keystore),
        "ANCHOR_KEYSTORE_PASSWORD": "worker password",
        "ANCHOR_DATA_DIR": str(tmp_path),
    }
    result = run_worker({**base, "ANCHOR_CHAIN_ID": "5"})
    assert result.returncode == 1
    assert result.stderr.strip().endswith(f"{env.node.url} is on chain 31337, not 5")
    assert "Traceback" not in result.stderr
    ok = run_worker(base)
    assert ok.returncode == 0, ok.stderr
    assert "worker password" not in ok.stderr


@pytest.mark.parametrize(
    ("override", "sentence"),
    [
        ({"registry_address": "0x" + "ab" * 20}, "there is no contract"),
        ({"keystore_password": "not the password"}, "wrong password"),
        ({"chain_id": 5}, "is on chain 31337, not 5"),
    ],
)
def test_worker_start_up_checks(
    env: Env, tmp_path: Path, override: dict[str, Any], sentence: str
) -> None:
    keystore = tmp_path / "signer.json"
    create_keystore(keystore, "worker password", dev_key(1), iterations=2**10)
    values: dict[str, Any] = {
        "rpc_urls": [env.node.url],
        "registry_address": env.registry.address,
        "keystore_path": keystore,
        "keystore_password": "worker password",
        "data_dir": tmp_path,
        **override,
    }
    with pytest.raises((ConfigError, ChainError), match=sentence):
        Worker.from_settings(load_settings(**values))


def test_worker_iteration_updates_metrics(env: Env, tmp_path: Path) -> None:
    env.take(3)  # closes one batch
    settings = load_settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'anchor.db'}",
        rpc_urls=[env.node.url],
        registry_address=env.registry.address,
        confirmations=0,
    )
    worker = Worker.from_settings(settings, account=env.relayer, keyring=env.keyring)
    worker.run_once()
    worker.run_once()
    text = json.dumps(
        {m.name: [s.value for s in m.samples] for m in worker.metrics.registry.collect()}
    )
    assert '"anchor_anchored_batches": [1.0' in text
    assert '"anchor_pending_digests": [0.0]' in text
    assert worker.metrics.last_anchored_block._value.get() > 0


def test_every_setting_is_documented_for_operators() -> None:
    from anchor.settings import Settings

    doc = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    missing = [n for n in Settings.model_fields if f"`ANCHOR_{n.upper()}`" not in doc]
    assert missing == [], f"docs/operations.md does not describe {missing}"
