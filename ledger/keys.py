"""Chain account keys encrypted at rest (Ethereum keystore v3: scrypt + AES-128-CTR).

The password comes from ``ECERT_KEY_PASSWORD`` or from the file named by
``ECERT_KEY_PASSWORD_FILE``; there is no default, and it must be at least
``MIN_PASSWORD_LENGTH`` (12) characters (``PASSWORD_RULE`` says so wherever one is refused).
Keys are never printed or logged: the ``LocalAccount`` objects handed out render only their
address.

Every keystore is encrypted with scrypt at ``DEFAULT_SCRYPT_N`` (2^17, the keystore v3
standard's own choice, about 0.45 s per key here). The only way to get less is to pass
``scrypt_n`` explicitly, which only tests do (``tests.conftest.TEST_ONLY_SCRYPT_N``): nothing
that runs for real chooses a cost. Key folders are mode 700 and key files mode 600.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger.errors import KeystoreError

__all__ = [
    "DEFAULT_SCRYPT_N",
    "MIN_PASSWORD_LENGTH",
    "PASSWORD_RULE",
    "KeyStore",
    "check_password",
    "password_from_env",
    "private_directory",
]

_NAME = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,63}")
DEFAULT_SCRYPT_N = 1 << 17
MIN_PASSWORD_LENGTH = 12
PASSWORD_RULE = (
    f"the key password must be at least {MIN_PASSWORD_LENGTH} characters, given in "
    "ECERT_KEY_PASSWORD or in the file ECERT_KEY_PASSWORD_FILE names ('make demo' writes a "
    "random one to .ecert/demo-password)"
)


def private_directory(path: Path) -> Path:
    """Create ``path`` if needed and make it mode 700 (owner only), whatever the umask or the
    mode it had before; returns it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def check_password(password: str) -> str:
    """``password`` if it follows the rule (``PASSWORD_RULE``); ``KeystoreError`` naming the
    rule otherwise. Every key the code encrypts, chain keystore or PKI key, passes here."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise KeystoreError(f"password refused: too short; {PASSWORD_RULE}")
    return password


def password_from_env() -> str:
    """The key password from the environment; refuses to run without one, or with one that
    breaks the rule (``PASSWORD_RULE``)."""
    direct = os.environ.get("ECERT_KEY_PASSWORD")
    if direct:
        return check_password(direct)
    path = os.environ.get("ECERT_KEY_PASSWORD_FILE")
    if path:
        try:
            value = Path(path).read_text("utf-8").strip()
        except OSError as exc:
            raise KeystoreError(
                f"cannot read ECERT_KEY_PASSWORD_FILE {path}: {exc.strerror}; {PASSWORD_RULE}"
            ) from exc
        if value:
            return check_password(value)
    raise KeystoreError(
        f"no key password: set ECERT_KEY_PASSWORD or ECERT_KEY_PASSWORD_FILE; {PASSWORD_RULE}"
    )


class KeyStore:
    """A directory of encrypted account keys, one ``<name>.json`` per account.

    ``scrypt_n`` is the scrypt cost of keys created from now on; leave it at the default except
    in tests (see the module docstring). Reading a key uses the cost written in its file."""

    def __init__(self, directory: Path, password: str, *, scrypt_n: int = DEFAULT_SCRYPT_N) -> None:
        check_password(password)
        self.directory = directory
        self._password = password
        self._scrypt_n = scrypt_n
        self._cache: dict[str, LocalAccount] = {}

    def __repr__(self) -> str:
        return f"KeyStore({str(self.directory)!r})"

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise KeystoreError(f"invalid key name {name!r}")
        return self.directory / f"{name}.json"

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json"))

    def create(self, name: str) -> LocalAccount:
        """Generate a new key and store it encrypted; refuses to overwrite."""
        account: LocalAccount = Account.create()
        self._store(name, bytes(account.key))
        self._cache[name] = account
        return account

    def store_secret(self, name: str, secret: bytes) -> None:
        """Store another 32-byte secret (a BLS key) in the same encrypted format; refuses to
        overwrite."""
        if len(secret) != 32:
            raise KeystoreError("a stored secret is 32 bytes")
        self._store(name, secret)

    def load_secret(self, name: str) -> bytes:
        """Decrypt a stored 32-byte secret."""
        return self._decrypt(name)

    def _store(self, name: str, secret: bytes) -> None:
        path = self._path(name)
        if path.exists():
            raise KeystoreError(f"key {name!r} already exists")
        encrypted = Account.encrypt(secret, self._password, kdf="scrypt", iterations=self._scrypt_n)
        private_directory(self.directory)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(encrypted, fh)

    def _decrypt(self, name: str) -> bytes:
        path = self._path(name)
        try:
            encrypted = json.loads(path.read_text("utf-8"))
        except FileNotFoundError as exc:
            raise KeystoreError(f"no key named {name!r} in {self.directory}") from exc
        except (OSError, ValueError) as exc:
            raise KeystoreError(f"key file {path.name} is unreadable") from exc
        try:
            return bytes(Account.decrypt(encrypted, self._password))
        except ValueError as exc:
            # eth-account says "MAC mismatch" for a wrong password; never echo key material.
            raise KeystoreError(f"cannot decrypt key {name!r}: wrong password?") from exc

    def load(self, name: str) -> LocalAccount:
        """Decrypt a stored key (cached for the life of this object)."""
        if name in self._cache:
            return self._cache[name]
        account: LocalAccount = Account.from_key(self._decrypt(name))
        self._cache[name] = account
        return account

    def load_or_create(self, name: str) -> LocalAccount:
        return self.load(name) if self._path(name).exists() else self.create(name)

    def address(self, name: str) -> str:
        """The address of a stored key, read without decrypting it."""
        try:
            raw = json.loads(self._path(name).read_text("utf-8"))["address"]
        except (OSError, ValueError, KeyError) as exc:
            raise KeystoreError(f"no readable key named {name!r}") from exc
        return Web3.to_checksum_address("0x" + str(raw).removeprefix("0x"))
