"""PKI keys and certificates on disk: private keys as encrypted PKCS#8 PEM (mode 600),
certificates as PEM. The password comes from the environment (see ``ledger.keys``)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from issuer.pki import Issued
from ledger.errors import KeystoreError
from ledger.keys import check_password, private_directory

__all__ = ["load_issued", "save_issued"]


def save_issued(issued: Issued, directory: Path, stem: str, password: str) -> None:
    """Write ``<stem>.key.pem`` (encrypted) and ``<stem>.cert.pem``; refuses to overwrite a key,
    or to encrypt it with a password that breaks the rule (``ledger.keys.PASSWORD_RULE``)."""
    check_password(password)
    private_directory(directory)
    key_path = directory / f"{stem}.key.pem"
    pem = issued.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password.encode("utf-8")),
    )
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeystoreError(f"{key_path.name} already exists; refusing to overwrite a key") from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    (directory / f"{stem}.cert.pem").write_bytes(
        issued.cert.public_bytes(serialization.Encoding.PEM)
    )


def load_issued(directory: Path, stem: str, password: str) -> Issued:
    """Read back what ``save_issued`` wrote."""
    try:
        cert = x509.load_pem_x509_certificate((directory / f"{stem}.cert.pem").read_bytes())
        key_pem = (directory / f"{stem}.key.pem").read_bytes()
    except (OSError, ValueError) as exc:
        raise KeystoreError(f"cannot read {stem} in {directory}") from exc
    try:
        key = serialization.load_pem_private_key(key_pem, password.encode("utf-8"))
    except (ValueError, TypeError) as exc:
        raise KeystoreError(f"cannot decrypt {stem}.key.pem: wrong password?") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeystoreError(f"{stem}.key.pem is neither an EC nor an RSA key")
    return Issued(key, cert)
