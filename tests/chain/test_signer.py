"""Signers and the keyring of the bodies' keystores."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from anchor.chain.eip712 import anchor_typed_data
from anchor.chain.relay import call_of
from anchor.chain.signer import Keyring, KeystoreSigner, create_body_keystore
from anchor.errors import ConfigError

PASSWORD = "keyring test password"


def wait_ready(keyring: Keyring, address: str, keystore: str) -> object:
    deadline = time.monotonic() + 30
    while (signer := keyring.ready(address, keystore)) is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return signer


def test_a_body_keystore_is_private_and_decrypts_in_the_background(tmp_path: Path) -> None:
    address, name = create_body_keystore(tmp_path, PASSWORD, iterations=2**10)
    assert name == f"keys/{address.lower()}.json"
    assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    keyring = Keyring(tmp_path, PASSWORD)
    assert keyring.ready(address, name) is None  # answered at once, decrypted in a thread
    signer = wait_ready(keyring, address, name)
    assert signer.address == address
    assert keyring.signer(address, name) is signer  # kept


def test_failures_are_raised_once_by_ready(tmp_path: Path) -> None:
    address, name = create_body_keystore(tmp_path, PASSWORD, iterations=2**10)
    wrong = Keyring(tmp_path, "not the password")
    assert wrong.ready(address, name) is None
    deadline = time.monotonic() + 30
    with pytest.raises(ConfigError, match="wrong password"):
        while wrong.ready(address, name) is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    other = Account.create().address
    with pytest.raises(ConfigError, match=f"holds {address}, not {other}"):
        Keyring(tmp_path, PASSWORD).signer(other, name)
    (tmp_path / name).chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        Keyring(tmp_path, PASSWORD).signer(address, name)


def test_keystore_signer_signs_typed_data_and_transactions(tmp_path: Path) -> None:
    account = Account.create()
    signer = KeystoreSigner(account)
    message = anchor_typed_data(31337, account.address, b"\x01" * 32, 3, account.address, 99)
    signature = signer.sign_typed_data(message)
    assert len(signature) == 65
    recovered = Account.recover_message(encode_typed_data(full_message=message),
                                        signature=signature)  # fmt: skip
    assert recovered == account.address
    tx = {"to": account.address, "data": "0xabcd", "nonce": 0, "gas": 50_000, "chainId": 1,
          "value": 0, "gasPrice": 0}  # fmt: skip
    signed = signer.sign_transaction(tx)
    assert call_of(signed.raw_transaction) == (b"\xab\xcd", 50_000)  # legacy, zero fee mode
    tx1559 = {k: v for k, v in tx.items() if k != "gasPrice"}
    signed = signer.sign_transaction(tx1559 | {"maxFeePerGas": 2, "maxPriorityFeePerGas": 1})
    assert call_of(signed.raw_transaction) == (b"\xab\xcd", 50_000)
    assert len(signed.hash) == 32


def test_signatures_use_libsecp256k1_and_agree_with_the_pure_python_backend() -> None:
    """eth-keys signs with coincurve (libsecp256k1) when it is importable: a dependency of the
    service, since a relayed send signs up to 40 anchors (7 ms each in pure Python). Its
    signatures are the same RFC 6979 ones as the pure-Python backend's, low s."""
    from eth_keys import KeyAPI
    from eth_keys.backends import CoinCurveECCBackend, NativeECCBackend

    assert isinstance(KeyAPI().backend, CoinCurveECCBackend)
    account = Account.create()
    digest = bytes(range(32))
    fast = KeyAPI(CoinCurveECCBackend).PrivateKey(account.key).sign_msg_hash(digest)
    slow = KeyAPI(NativeECCBackend).PrivateKey(account.key).sign_msg_hash(digest)
    assert fast == slow
    assert fast.recover_public_key_from_msg_hash(digest).to_checksum_address() == account.address
