from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ledger.errors import KeystoreError
from ledger.keys import DEFAULT_SCRYPT_N, KeyStore, password_from_env, private_directory

PASSWORD = "a long test password"


def test_keys_are_encrypted_at_rest_and_reload(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys", PASSWORD, scrypt_n=1 << 12)
    account = store.create("issuer-zj-amr")
    path = tmp_path / "keys" / "issuer-zj-amr.json"
    raw = path.read_text()
    assert account.key.hex().removeprefix("0x") not in raw
    assert json.loads(raw)["crypto"]["kdf"] == "scrypt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = KeyStore(tmp_path / "keys", PASSWORD)
    assert again.load("issuer-zj-amr").address == account.address
    assert again.address("issuer-zj-amr") == account.address
    assert PASSWORD not in repr(again)
    assert store.names() == ["issuer-zj-amr"]


def test_wrong_password_missing_key_and_overwrite_are_refused(tmp_path: Path) -> None:
    KeyStore(tmp_path, PASSWORD, scrypt_n=1 << 12).create("admin")
    with pytest.raises(KeystoreError, match="wrong password"):
        KeyStore(tmp_path, "another long password").load("admin")
    with pytest.raises(KeystoreError, match="no key named"):
        KeyStore(tmp_path, PASSWORD).load("nobody")
    with pytest.raises(KeystoreError, match="already exists"):
        KeyStore(tmp_path, PASSWORD).create("admin")
    with pytest.raises(KeystoreError, match="invalid key name"):
        KeyStore(tmp_path, PASSWORD).load("../etc/passwd")
    with pytest.raises(KeystoreError, match="at least 12"):
        KeyStore(tmp_path, "short")


def test_password_comes_only_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ECERT_KEY_PASSWORD", raising=False)
    monkeypatch.delenv("ECERT_KEY_PASSWORD_FILE", raising=False)
    with pytest.raises(KeystoreError, match="set ECERT_KEY_PASSWORD"):
        password_from_env()
    secret = tmp_path / "pw"
    secret.write_text("from a secrets file\n")
    monkeypatch.setenv("ECERT_KEY_PASSWORD_FILE", str(secret))
    assert password_from_env() == "from a secrets file"
    monkeypatch.setenv("ECERT_KEY_PASSWORD", "from the environment")
    assert password_from_env() == "from the environment"


def test_a_short_password_is_refused_with_the_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ECERT_KEY_PASSWORD_FILE", raising=False)
    monkeypatch.setenv("ECERT_KEY_PASSWORD", "eleven char")
    with pytest.raises(KeystoreError) as refused:
        password_from_env()
    assert "at least 12 characters" in str(refused.value)
    assert "ECERT_KEY_PASSWORD_FILE" in str(refused.value)
    monkeypatch.setenv("ECERT_KEY_PASSWORD", "twelve chars")
    assert password_from_env() == "twelve chars"
    monkeypatch.delenv("ECERT_KEY_PASSWORD")
    with pytest.raises(KeystoreError, match="at least 12 characters"):
        password_from_env()  # none at all: the rule is said too


def test_the_default_cost_is_2_17_and_folders_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)  # an older home made under a permissive umask
    KeyStore(folder, PASSWORD).store_secret("bundle-zj", b"\x01" * 32)
    kdf = json.loads((folder / "bundle-zj.json").read_text())["crypto"]["kdfparams"]
    assert kdf["n"] == DEFAULT_SCRYPT_N == 1 << 17
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(private_directory(tmp_path / "a" / "b").stat().st_mode) == 0o700
