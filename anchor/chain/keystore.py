"""The signing key: an eth-account encrypted keystore (Web3 Secret Storage, scrypt).

The password comes from the environment or a file (`Settings.keystore_secret`); it is never
logged, and neither is the key.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from anchor.errors import ConfigError


def create_keystore(
    path: Path, password: str, private_key: str | None = None, *, iterations: int | None = None
) -> str:
    """Write a new encrypted keystore at ``path`` (mode 0600) and return its address.

    Refuses to overwrite an existing file. ``iterations`` is the scrypt cost ``n`` (a power of
    two; eth-account's default, 2**18, when None); tests lower it to start workers quickly.
    """
    if len(password) < 8:
        raise ConfigError("the keystore password must have at least 8 characters")
    account = Account.from_key(private_key) if private_key else Account.create()
    encrypted = Account.encrypt(account.key, password, iterations=iterations)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as e:
        raise ConfigError(f"{path} already exists; refusing to overwrite a keystore") from e
    with os.fdopen(fd, "w") as f:
        json.dump(encrypted, f)
    return str(account.address)


def load_keystore(path: Path, password: str) -> LocalAccount:
    """Decrypt the keystore at ``path``; a wrong password or a bad file gives `ConfigError`."""
    try:
        data = json.loads(path.read_text())
    except OSError as e:
        raise ConfigError(f"cannot read the keystore {path}: {e.strerror}") from e
    except ValueError as e:
        raise ConfigError(f"{path} is not a keystore (not JSON)") from e
    try:
        key = Account.decrypt(data, password)
    except ValueError as e:
        raise ConfigError(
            f"cannot decrypt the keystore {path}: wrong password or corrupt file"
        ) from e
    account: LocalAccount = Account.from_key(key)
    return account
