"""The signing key: an eth-account encrypted keystore (Web3 Secret Storage, scrypt).

The password comes from the environment or a file (`Settings.keystore_secret`); it is never
logged, and neither is the key. A keystore (or password file) that the group or others can read
is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from anchor.errors import ConfigError
from anchor.private_files import create_private, read_private_text


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
    try:
        create_private(path, json.dumps(encrypted).encode())
    except FileExistsError as e:
        raise ConfigError(f"{path} already exists; refusing to overwrite a keystore") from e
    return str(account.address)


def load_keystore(path: Path, password: str) -> LocalAccount:
    """Decrypt the keystore at ``path``; a wrong password or a bad file gives `ConfigError`."""
    text = read_private_text(path, "keystore")
    try:
        data = json.loads(text)
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
