"""The SM2 PKI: OpenSSL verifies every link and reads our encrypted keys; a look-alike
hierarchy does not pass; keys stay encrypted and out of sight."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from issuer.sm2keyfile import decrypt_sm2_key, load_sm2_issued, save_sm2_issued
from issuer.sm2pki import issue_sm2_root
from issuer.sm2store import Sm2PkiStore
from ledger import sm2
from ledger.errors import KeystoreError
from tests.issuer.conftest import SampleSm2, make_sm2
from tests.openssl_cli import dgst_verify, openssl, verify_link, write_cert

PASSWORD = "correct horse battery staple"


def test_openssl_verifies_each_link_of_the_chain(sm2_pki: SampleSm2, tmp_path: Path) -> None:
    assert verify_link(sm2_pki.zj.cert, sm2_pki.root.cert, tmp_path)
    assert verify_link(sm2_pki.seal.cert, sm2_pki.zj.cert, tmp_path)
    assert verify_link(sm2_pki.maker.cert, sm2_pki.zj.cert, tmp_path)
    # the root's self-signature, checked by openssl dgst over its TBSCertificate
    root = sm2_pki.root.cert
    assert dgst_verify(
        sm2.certificate_public_key(root),
        root["tbs_certificate"].dump(),
        bytes(root["signature_value"].native),
        tmp_path,
    )


def test_a_look_alike_hierarchy_fails_in_openssl_and_here(
    sm2_pki: SampleSm2, tmp_path: Path
) -> None:
    impostor = make_sm2()  # the same names, other keys
    assert not verify_link(impostor.seal.cert, sm2_pki.zj.cert, tmp_path)
    assert not verify_link(impostor.zj.cert, sm2_pki.root.cert, tmp_path)
    assert not sm2.verify_certificate(impostor.seal.cert, sm2_pki.zj.cert)
    assert sm2.verify_certificate(sm2_pki.seal.cert, sm2_pki.zj.cert)


def test_profiles_as_openssl_reads_them(sm2_pki: SampleSm2, tmp_path: Path) -> None:
    text = openssl(
        "x509", "-noout", "-text", "-in", write_cert(sm2_pki.seal.cert, tmp_path / "s.pem")
    )
    out = text.stdout.decode()
    assert out.count("Signature Algorithm: SM2-with-SM3") == 2
    assert "ASN1 OID: SM2" in out
    assert "X509v3 Key Usage: critical\n                Digital Signature, Non Repudiation" in out
    assert "CA:FALSE" in out
    assert "1.3.6.1.5.5.7.3.36" in out
    ca = openssl("x509", "-noout", "-text", "-in", write_cert(sm2_pki.zj.cert, tmp_path / "c.pem"))
    assert "CA:TRUE, pathlen:0" in ca.stdout.decode()
    purpose = openssl(
        "verify",
        "-vfyopt",
        "distid:1234567812345678",
        "-partial_chain",
        "-CAfile",
        tmp_path / "c.pem",
        "-purpose",
        "sslserver",
        tmp_path / "s.pem",
    )
    assert purpose.returncode != 0  # a seal certificate is no TLS server certificate


def test_keys_are_encrypted_at_rest_and_openssl_reads_them(tmp_path: Path) -> None:
    root = issue_sm2_root()
    save_sm2_issued(root, tmp_path, "root", PASSWORD)
    key_file = tmp_path / "root.key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    assert root.key.private.hex() not in key_file.read_text()
    assert root.key.private.hex() not in repr(root)
    assert load_sm2_issued(tmp_path, "root", PASSWORD).key == root.key
    with pytest.raises(KeystoreError):
        decrypt_sm2_key(key_file.read_bytes(), "not the password at all")
    with pytest.raises(KeystoreError):
        save_sm2_issued(root, tmp_path, "root", PASSWORD)  # never overwrites a key
    plain = openssl("pkey", "-in", key_file, "-passin", f"pass:{PASSWORD}", "-noout", "-text")
    assert plain.returncode == 0
    assert root.key.private.hex() in plain.stdout.decode().replace(":", "").replace(
        "\n", ""
    ).replace(" ", "")
    assert (
        openssl("pkey", "-in", key_file, "-passin", "pass:wrong-password", "-noout").returncode != 0
    )


def test_store_and_trust_roots_sm2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli.main import app  # noqa: PLC0415

    monkeypatch.setenv("ECERT_HOME", str(tmp_path))
    monkeypatch.setenv("ECERT_KEY_PASSWORD", PASSWORD)
    runner = CliRunner()
    assert runner.invoke(app, ["pki", "init-root", "--sm2"]).exit_code == 0
    assert (
        runner.invoke(
            app, ["pki", "add-province", "--code", "ZJ", "--name", "浙江省", "--sm2"]
        ).exit_code
        == 0
    )
    issued = runner.invoke(
        app,
        [
            "pki",
            "issue-seal",
            "--issuer",
            "11330000002482000X",
            "--name",
            "浙江省市场监督管理局",
            "--province",
            "ZJ",
            "--province-name",
            "浙江省",
            "--sm2",
        ],
    )
    assert issued.exit_code == 0, issued.output
    out = tmp_path / "sm2-roots.pem"
    assert runner.invoke(app, ["trust", "roots", "--sm2", "--out", str(out)]).exit_code == 0
    store = Sm2PkiStore(tmp_path, PASSWORD)
    # the trust list: the SM2 root, then the province CAs (an OFD seal carries no chain)
    assert (
        out.read_bytes()
        == (store.base / "root.cert.pem").read_bytes()
        + (store.base / "provinces" / "ZJ" / "ca.cert.pem").read_bytes()
    )
    sealer = store.sealer("11330000002482000X")
    assert sealer.stamp_mm == 42
    ca = load_sm2_issued(store.base / "provinces" / "ZJ", "ca", PASSWORD)
    seal = load_sm2_issued(store.base / "departments" / "11330000002482000X", "seal-1", PASSWORD)
    assert verify_link(seal.cert, ca.cert, tmp_path)
    assert (
        store.issue_seal("ZJ", "浙江省", "11330000002482000X", "浙江省市场监督管理局") == "seal-2"
    )
