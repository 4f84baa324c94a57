"""The system OpenSSL CLI as an independent judge of our SM2 and SM3 output (a tool we did not
write). OpenSSL 3.0 applies ``-vfyopt distid:`` to the certificate being verified only, never
to the CA certificates above it, so a chain is checked one link at a time."""

from __future__ import annotations

import subprocess
from pathlib import Path

from asn1crypto import keys, pem, x509

from ledger import sm2

DISTID = f"distid:{sm2.DEFAULT_ID.decode()}"


def openssl(*args: str | Path, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["openssl", *map(str, args)], input=data, capture_output=True, check=False, timeout=30
    )


def write_cert(cert: x509.Certificate, path: Path) -> Path:
    path.write_bytes(pem.armor("CERTIFICATE", cert.dump()))
    return path


def verify_link(cert: x509.Certificate, issuer: x509.Certificate, folder: Path) -> bool:
    """``openssl verify`` of ``cert`` with ``issuer`` as its trust anchor."""
    leaf = write_cert(cert, folder / "leaf.pem")
    anchor = write_cert(issuer, folder / "anchor.pem")
    result = openssl("verify", "-vfyopt", DISTID, "-partial_chain", "-CAfile", anchor, leaf)
    return result.returncode == 0 and result.stdout.strip().endswith(b": OK")


def public_key_pem(public: bytes, path: Path) -> Path:
    path.write_bytes(pem.armor("PUBLIC KEY", sm2.public_key_info(public).dump()))
    return path


def dgst_verify(public: bytes, message: bytes, signature: bytes, folder: Path) -> bool:
    """``openssl dgst -sm3 -verify`` with the GB/T 35276 default ID."""
    key = public_key_pem(public, folder / "pub.pem")
    (folder / "msg.bin").write_bytes(message)
    (folder / "sig.der").write_bytes(signature)
    result = openssl(
        "dgst",
        "-sm3",
        "-verify",
        key,
        "-sigopt",
        DISTID,
        "-signature",
        folder / "sig.der",
        folder / "msg.bin",
    )
    return result.returncode == 0 and b"Verified OK" in result.stdout


def sm3_hex(data: bytes) -> str:
    result = openssl("dgst", "-sm3", "-r", data=data)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[0].decode()


def certificate_key(cert: x509.Certificate) -> keys.PublicKeyInfo:
    return cert["tbs_certificate"]["subject_public_key_info"]
