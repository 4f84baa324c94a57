"""SM2 keys and certificates on disk, like ``issuer.keyfiles`` does for ECDSA: the private key
as encrypted PKCS#8 PEM (mode 600), the certificate as PEM.

``cryptography`` cannot load SM2 keys, so the PKCS#8 envelope is built here with asn1crypto:
PBES2 with PBKDF2-HMAC-SHA256 (600,000 iterations, 16-byte salt) and AES-256-CBC around an
``ECPrivateKey`` on sm2p256v1 that carries its public key. It is the same format
``openssl genpkey -algorithm SM2 -aes-256-cbc`` writes, so OpenSSL reads these files (tested).
"""

from __future__ import annotations

import os
from pathlib import Path

from asn1crypto import algos, keys, pem, x509
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from issuer.sm2pki import Sm2Issued
from ledger import sm2
from ledger.errors import KeystoreError
from ledger.keys import check_password

__all__ = ["decrypt_sm2_key", "encrypt_sm2_key", "load_sm2_issued", "save_sm2_issued"]

ITERATIONS = 600_000
_KEY_LABEL = "ENCRYPTED PRIVATE KEY"


def _kdf(password: str, salt: bytes, iterations: int) -> bytes:
    return PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(password.encode("utf-8"))


def _private_key_info(key: sm2.Sm2KeyPair) -> keys.PrivateKeyInfo:
    curve = keys.ECDomainParameters("named", sm2.SM2_CURVE)
    ec_key = keys.ECPrivateKey(
        {
            "version": "ecPrivkeyVer1",
            "private_key": int.from_bytes(key.private, "big"),
            "public_key": b"\x04" + key.public,
        }
    )
    ec_key["private_key"].set_encoded_width(32)
    return keys.PrivateKeyInfo(
        {
            "version": 0,
            "private_key_algorithm": {"algorithm": "ec", "parameters": curve},
            "private_key": ec_key,
        }
    )


def encrypt_sm2_key(key: sm2.Sm2KeyPair, password: str, *, iterations: int = ITERATIONS) -> bytes:
    """The key as an encrypted PKCS#8 PEM block."""
    salt, iv = os.urandom(16), os.urandom(16)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(_private_key_info(key).dump()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(_kdf(password, salt, iterations)), modes.CBC(iv)).encryptor()
    blob = keys.EncryptedPrivateKeyInfo(
        {
            "encryption_algorithm": {
                "algorithm": "pbes2",
                "parameters": {
                    "key_derivation_func": {
                        "algorithm": "pbkdf2",
                        "parameters": {
                            "salt": algos.Pbkdf2Salt("specified", salt),
                            "iteration_count": iterations,
                            "prf": {"algorithm": "sha256"},
                        },
                    },
                    "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv},
                },
            },
            "encrypted_data": encryptor.update(plain) + encryptor.finalize(),
        }
    )
    return bytes(pem.armor(_KEY_LABEL, blob.dump()))


def decrypt_sm2_key(data: bytes, password: str) -> sm2.Sm2KeyPair:
    """Read back ``encrypt_sm2_key`` output; ``KeystoreError`` on anything else."""
    try:
        label, _, der = pem.unarmor(data)
        blob = keys.EncryptedPrivateKeyInfo.load(der)
        algorithm = blob["encryption_algorithm"]
        params = algorithm["parameters"]
        kdf = params["key_derivation_func"]["parameters"]
        scheme = params["encryption_scheme"]
        if (
            label != _KEY_LABEL
            or algorithm["algorithm"].native != "pbes2"
            or kdf["prf"]["algorithm"].native != "sha256"
            or scheme["algorithm"].native != "aes256_cbc"
        ):
            raise KeystoreError("not a PBES2 / PBKDF2-SHA256 / AES-256-CBC key file")
        key = _kdf(password, kdf["salt"].native, kdf["iteration_count"].native)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(scheme["parameters"].native)).decryptor()
        padded = decryptor.update(blob["encrypted_data"].native) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        info = keys.PrivateKeyInfo.load(unpadder.update(padded) + unpadder.finalize())
        if info["private_key_algorithm"]["parameters"].chosen.dotted != sm2.SM2_CURVE:
            raise KeystoreError("the key is not on the SM2 curve")
        ec_key = info["private_key"].parsed
        private = ec_key["private_key"].contents.rjust(32, b"\x00")
        public = bytes(ec_key["public_key"].contents[2:])
        return sm2.Sm2KeyPair(private=bytes(private), public=public)
    except KeystoreError:
        raise
    except (ValueError, TypeError, KeyError, sm2.Sm2Error) as exc:
        raise KeystoreError("cannot decrypt the SM2 key: wrong password?") from exc


def save_sm2_issued(issued: Sm2Issued, directory: Path, stem: str, password: str) -> None:
    """Write ``<stem>.key.pem`` (encrypted) and ``<stem>.cert.pem``; refuses to overwrite a key,
    or to encrypt it with a password that breaks the rule (``ledger.keys.PASSWORD_RULE``)."""
    check_password(password)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_path = directory / f"{stem}.key.pem"
    data = encrypt_sm2_key(issued.key, password)
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeystoreError(f"{key_path.name} already exists; refusing to overwrite a key") from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    (directory / f"{stem}.cert.pem").write_bytes(pem.armor("CERTIFICATE", issued.der))


def load_certificate(path: Path) -> x509.Certificate:
    try:
        _, _, der = pem.unarmor(path.read_bytes())
        return x509.Certificate.load(der)
    except (OSError, ValueError) as exc:
        raise KeystoreError(f"cannot read the certificate {path.name}") from exc


def load_sm2_issued(directory: Path, stem: str, password: str) -> Sm2Issued:
    """Read back what ``save_sm2_issued`` wrote."""
    cert = load_certificate(directory / f"{stem}.cert.pem")
    try:
        data = (directory / f"{stem}.key.pem").read_bytes()
    except OSError as exc:
        raise KeystoreError(f"cannot read {stem}.key.pem in {directory}") from exc
    key = decrypt_sm2_key(data, password)
    if sm2.certificate_public_key(cert) != key.public:
        raise KeystoreError(f"{stem}.key.pem does not belong to {stem}.cert.pem")
    return Sm2Issued(key, cert)
