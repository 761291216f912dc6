"""Signers: what signs a transaction or an EIP-712 message for the service, behind one protocol.

The service holds two kinds of keys: the relayer's (the worker's ``ANCHOR_KEYSTORE_PATH``, which
pays for the relayed transactions and holds no role) and the keys of the bodies it hosts (each
body's anchoring and status keys, one encrypted keystore file each under the data directory,
listed in the store's ``issuer_keys``). Everything that signs goes through `Signer`, so that a
KMS or an HSM can hold the keys later: implement `Signer` over its API (``address``,
``sign_transaction``, ``sign_typed_data``; the private key never leaves it) and hand that object
where a `KeystoreSigner` goes today. Nothing else of the service touches a private key.

`KeystoreSigner` is the implementation over eth-account encrypted keystores (Web3 Secret Storage,
scrypt), files of mode 0600 (`anchor.private_files`). `Keyring` decrypts the bodies' keystores
and keeps them for the process. scrypt costs nearly a second a file here: 700 bodies would hold
the worker's loop for ten minutes after each start, so the worker asks with `Keyring.ready`,
which answers at once and decrypts in background threads what it does not hold yet (a body whose
key is not ready waits a step or two; the others go on).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3

from anchor.chain.keystore import load_keystore
from anchor.errors import ConfigError
from anchor.private_files import create_private

__all__ = [
    "KEYS_DIR",
    "Keyring",
    "KeystoreSigner",
    "SignedTx",
    "Signer",
    "create_body_keystore",
]

#: Where the bodies' keystores live, relative to the data directory.
KEYS_DIR = "keys"


@dataclass(frozen=True, slots=True)
class SignedTx:
    """A signed transaction: the raw bytes to broadcast and their hash."""

    raw_transaction: bytes
    hash: bytes


class Signer(Protocol):
    """Signs for one address. A KMS or HSM implements the same three members."""

    @property
    def address(self) -> ChecksumAddress:
        """The checksum address of the key."""
        ...

    def sign_transaction(self, tx: Mapping[str, Any]) -> SignedTx:
        """Sign a transaction dictionary (with its nonce, gas, fees and chain id)."""
        ...

    def sign_typed_data(self, full_message: Mapping[str, Any]) -> bytes:
        """Sign an EIP-712 message (``types``, ``primaryType``, ``domain``, ``message``);
        return the 65-byte signature ``r || s || v``."""
        ...


class KeystoreSigner:
    """A `Signer` over a decrypted eth-account key (from a keystore, or given directly)."""

    def __init__(self, account: LocalAccount) -> None:
        self._account = account

    @classmethod
    def from_keystore(cls, path: Path, password: str) -> KeystoreSigner:
        """Decrypt the keystore at ``path`` (refused unless private to its owner)."""
        return cls(load_keystore(path, password))

    @property
    def address(self) -> ChecksumAddress:
        """The checksum address of the key."""
        return self._account.address

    def sign_transaction(self, tx: Mapping[str, Any]) -> SignedTx:
        """Sign a transaction dictionary."""
        signed = self._account.sign_transaction(dict(tx))
        return SignedTx(bytes(signed.raw_transaction), bytes(signed.hash))

    def sign_typed_data(self, full_message: Mapping[str, Any]) -> bytes:
        """Sign an EIP-712 message; the 65-byte signature."""
        return bytes(self._account.sign_typed_data(full_message=dict(full_message)).signature)


def create_body_keystore(
    data_dir: Path, password: str, *, iterations: int | None = None
) -> tuple[ChecksumAddress, str]:
    """Make a new key in an encrypted keystore under ``<data_dir>/keys/`` (mode 0600).

    Return its address and the file's name relative to ``data_dir`` (what the store keeps).
    ``iterations`` is the scrypt cost (eth-account's default, 2**18, when None).
    """
    if len(password) < 8:
        raise ConfigError("the keystore password must have at least 8 characters")
    account: LocalAccount = Account.create()
    relative = f"{KEYS_DIR}/{account.address.lower()}.json"
    encrypted = Account.encrypt(account.key, password, iterations=iterations)
    try:
        create_private(data_dir / relative, json.dumps(encrypted).encode())
    except FileExistsError as e:  # pragma: no cover - a fresh random key
        raise ConfigError(f"{data_dir / relative} already exists") from e
    except OSError as e:
        raise ConfigError(f"cannot write a keystore in {data_dir / KEYS_DIR}: {e.strerror}") from e
    return account.address, relative


class Keyring:
    """The bodies' signers, decrypted from their keystores and kept for the process."""

    def __init__(self, data_dir: Path, password: str, *, loaders: int = 2) -> None:
        """Keystores under ``data_dir``; ``loaders`` background threads decrypt for `ready`."""
        self.data_dir = data_dir
        self._password = password
        self._signers: dict[str, Signer] = {}
        self._lock = threading.Lock()
        self._loading: set[str] = set()
        self._failed: dict[str, ConfigError] = {}
        self._queue: queue.Queue[tuple[str, str]] = queue.Queue()
        self._loaders = loaders
        self._threads: list[threading.Thread] = []

    def ready(self, address: str, keystore: str) -> Signer | None:
        """The signer of ``address`` if it is decrypted; else None, and it is decrypted in the
        background. The ConfigError of a failed decryption is raised here, once per try."""
        key = address.lower()
        with self._lock:
            found = self._signers.get(key)
            if found is not None:
                return found
            failed = self._failed.pop(key, None)
            if failed is not None:
                raise failed
            if key in self._loading:
                return None
            self._loading.add(key)
            if len(self._threads) < self._loaders:
                thread = threading.Thread(target=self._load, name="keyring", daemon=True)
                self._threads.append(thread)
                thread.start()
        self._queue.put((address, keystore))
        return None

    def _load(self) -> None:
        while True:
            address, keystore = self._queue.get()
            try:
                self.signer(address, keystore)
            except ConfigError as e:
                with self._lock:
                    self._failed[address.lower()] = e
            finally:
                with self._lock:
                    self._loading.discard(address.lower())

    def add(self, signer: Signer) -> None:
        """Hold a signer made elsewhere (a KMS key, a test key) under its address."""
        with self._lock:
            self._signers[signer.address.lower()] = signer

    def signer(self, address: str, keystore: str) -> Signer:
        """The signer of ``address``, whose keystore is ``keystore`` (relative to the data
        directory); ConfigError when the file is missing, not private, or not that address."""
        with self._lock:
            found = self._signers.get(address.lower())
        if found is not None:
            return found
        signer = KeystoreSigner.from_keystore(self.data_dir / keystore, self._password)
        if signer.address.lower() != address.lower():
            raise ConfigError(
                f"the keystore {self.data_dir / keystore} holds {signer.address}, not "
                f"{Web3.to_checksum_address(address)}"
            )
        with self._lock:
            return self._signers.setdefault(address.lower(), signer)
