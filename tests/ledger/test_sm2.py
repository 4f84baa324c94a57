"""SM2/SM3 as pinned in ``ledger.sm2``, judged by two implementations we did not write: the
OpenSSL CLI and the pure-Python ``gmssl`` package."""

from __future__ import annotations

import os
from pathlib import Path

from asn1crypto import algos
from gmssl import sm2 as pure_sm2
from gmssl import sm3 as pure_sm3

from ledger import sm2
from tests.openssl_cli import dgst_verify, openssl, public_key_pem, sm3_hex


def test_sm3_standard_vector_and_openssl() -> None:
    # GB/T 32905-2016 Appendix A.1
    assert sm2.sm3(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    blob = os.urandom(5000)
    assert sm2.sm3(blob).hex() == sm3_hex(blob)
    assert sm2.sm3(blob).hex() == pure_sm3.sm3_hash(list(blob))


def test_our_signature_verifies_in_openssl_and_a_tampered_message_does_not(
    tmp_path: Path,
) -> None:
    key = sm2.generate()
    message = "电子证照 TBS_Sign".encode() * 10
    signature = sm2.sign(key, message)
    assert dgst_verify(key.public, message, signature, tmp_path)
    assert not dgst_verify(key.public, message + b"x", signature, tmp_path)
    assert not dgst_verify(sm2.generate().public, message, signature, tmp_path)


def test_openssl_signature_verifies_here(tmp_path: Path) -> None:
    key_path = tmp_path / "k.pem"
    assert openssl("genpkey", "-algorithm", "SM2", "-out", key_path).returncode == 0
    pub_path = tmp_path / "pub.der"
    assert (
        openssl("pkey", "-in", key_path, "-pubout", "-outform", "DER", "-out", pub_path).returncode
        == 0
    )
    public = pub_path.read_bytes()[-64:]
    (tmp_path / "m").write_bytes(b"message from openssl")
    signed = openssl(
        "dgst",
        "-sm3",
        "-sign",
        key_path,
        "-sigopt",
        "distid:1234567812345678",
        tmp_path / "m",
    )
    assert signed.returncode == 0
    assert sm2.verify(public, b"message from openssl", signed.stdout)
    assert not sm2.verify(
        public, b"message from openssl", signed.stdout, signer_id=b"ALICE123@YAHOO.COM"
    )
    public_key_pem(public, tmp_path / "same.pem")  # our SPKI encoding of it is accepted too
    assert dgst_verify(public, b"message from openssl", signed.stdout, tmp_path)


def test_pure_python_gmssl_agrees_both_ways() -> None:
    key = sm2.generate()
    other = pure_sm2.CryptSM2(private_key=key.private.hex(), public_key=key.public.hex())
    message = b"cross-check"
    ours = sm2.sign(key, message)
    parsed = algos.DSASignature.load(ours)
    raw = f"{parsed['r'].native:064x}{parsed['s'].native:064x}"
    assert other.verify_with_sm3(raw, message)
    theirs = other.sign_with_sm3(message, os.urandom(32).hex())
    r, s = int(theirs[:64], 16), int(theirs[64:], 16)
    der = algos.DSASignature({"r": r, "s": s}).dump()
    assert sm2.verify(key.public, message, der)


def test_verify_refuses_without_raising() -> None:
    key = sm2.generate()
    signature = sm2.sign(key, b"m")
    assert sm2.verify(key.public, b"m", signature)
    raw_rs = signature[4:]  # not DER
    assert not sm2.verify(key.public, b"m", raw_rs)
    assert not sm2.verify(key.public, b"m", signature + b"\x00")  # trailing bytes
    assert not sm2.verify(b"\x01" * 64, b"m", signature)  # a point off the curve
    assert not sm2.verify(key.public[:10], b"m", signature)
    assert not sm2.verify(key.public, b"m", b"")
    assert "private" not in repr(key)
    assert key.private.hex() not in repr(key)
