"""Secrets on disk: keystores and password files are refused unless private to their owner."""

from __future__ import annotations

from pathlib import Path

import pytest

from anchor.chain.keystore import create_keystore, load_keystore
from anchor.errors import ConfigError
from anchor.settings import load_settings

PASSWORD = "correct horse battery"


def test_a_keystore_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signer.json"
    address = create_keystore(path, PASSWORD, iterations=2)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_keystore(path, PASSWORD).address == address
    path.chmod(0o644)
    with pytest.raises(ConfigError, match=r"readable by other users \(mode 644\).*chmod 600"):
        load_keystore(path, PASSWORD)
    path.chmod(0o640)
    with pytest.raises(ConfigError, match="readable by other users"):
        load_keystore(path, PASSWORD)


def test_a_password_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o644)
    settings = load_settings(data_dir=tmp_path, keystore_password_file=secret)
    with pytest.raises(ConfigError, match=r"keystore password file .* readable by other users"):
        settings.keystore_secret()
    secret.chmod(0o600)
    assert settings.keystore_secret() == PASSWORD
