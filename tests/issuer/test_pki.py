"""The PKI profiles pass pyHanko's strict validation of a real PAdES signature, and a
look-alike hierarchy with identical names does not."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pikepdf
import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from issuer.keyfiles import load_issued, save_issued
from issuer.pki import Issued, issue_province_ca, issue_root, issue_seal, issue_tsa
from ledger.errors import KeystoreError

SEAL_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"},
    extd_key_usage={"1.3.6.1.5.5.7.3.36"},
    explicit_extd_key_usage_required=True,
)


def _asn1(issued: Issued) -> tuple[asn1_x509.Certificate, asn1_keys.PrivateKeyInfo]:
    der = issued.cert.public_bytes(serialization.Encoding.DER)
    key = issued.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return asn1_x509.Certificate.load(der), asn1_keys.PrivateKeyInfo.load(key)


def _hierarchy() -> tuple[Issued, Issued, Issued]:
    root = issue_root()
    zj = issue_province_ca(root, "ZJ", "浙江省")
    seal = issue_seal(
        zj,
        department="浙江省市场监督管理局",
        organization_id="11330000002482000X",
        province_name="浙江省",
    )
    return root, zj, seal


def _sealed_pdf(seal: Issued, ca: Issued) -> bytes:
    blank = pikepdf.new()
    blank.add_blank_page(page_size=(595, 842))
    buffer = io.BytesIO()
    blank.save(buffer)
    cert, key = _asn1(seal)
    signer = signers.SimpleSigner(
        signing_cert=cert,
        signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs([_asn1(ca)[0]]),
    )
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(buffer.getvalue())),
        signers.PdfSignatureMetadata(field_name="Seal"),
        signer=signer,
    )
    return out.getvalue()


def _validate(pdf: bytes, root: Issued):  # type: ignore[no-untyped-def]
    reader = PdfFileReader(io.BytesIO(pdf))
    context = ValidationContext(trust_roots=[_asn1(root)[0]])
    return validate_pdf_signature(
        reader.embedded_signatures[0], context, key_usage_settings=SEAL_USAGE
    )


def test_seal_profile_passes_strict_pyhanko_validation() -> None:
    root, zj, seal = _hierarchy()
    status = _validate(_sealed_pdf(seal, zj), root)
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.bottom_line


def test_look_alike_hierarchy_with_identical_names_is_not_trusted() -> None:
    root, _, seal = _hierarchy()
    fake_root = issue_root()  # same subject names, different keys
    fake_zj = issue_province_ca(fake_root, "ZJ", "浙江省")
    fake_seal = issue_seal(
        fake_zj,
        department="浙江省市场监督管理局",
        organization_id="11330000002482000X",
        province_name="浙江省",
    )
    assert fake_seal.cert.subject == seal.cert.subject
    status = _validate(_sealed_pdf(fake_seal, fake_zj), root)
    assert status.intact
    assert not status.trusted
    assert not status.bottom_line


def test_tsa_certificate_is_for_timestamping_only() -> None:
    root = issue_root()
    tsa = issue_tsa(issue_province_ca(root, "GD", "广东省"), province_name="广东省")
    from cryptography import x509  # noqa: PLC0415
    from cryptography.x509.oid import ExtendedKeyUsageOID  # noqa: PLC0415

    eku = tsa.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


def test_keys_are_stored_encrypted(tmp_path: Path) -> None:
    root, _, _ = _hierarchy()
    with pytest.raises(KeystoreError, match="at least 12 characters"):
        save_issued(root, tmp_path, "root", "short")  # PKI keys follow the keystores' rule
    assert not (tmp_path / "root.key.pem").exists()
    save_issued(root, tmp_path, "root", "a long pki password")
    key_file = tmp_path / "root.key.pem"
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    loaded = load_issued(tmp_path, "root", "a long pki password")
    assert loaded.cert == root.cert
    with pytest.raises(KeystoreError, match="wrong password"):
        load_issued(tmp_path, "root", "not the password")
    with pytest.raises(KeystoreError, match="refusing to overwrite"):
        save_issued(root, tmp_path, "root", "a long pki password")
