"""The certificate hierarchy behind the e-seals: national root → province CAs → one seal
certificate per department, plus a timestamp-authority certificate per province.

Profiles follow what both pyHanko's strict key-usage policy and poppler's ``pdfsig`` accept: a
seal certificate has key usage digitalSignature + nonRepudiation (critical) and extended key
usage documentSigning (1.3.6.1.5.5.7.3.36) plus emailProtection (which NSS, behind pdfsig,
insists on). Keys are ECDSA (P-384 for the long-lived root, P-256 below it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

__all__ = [
    "DOCUMENT_SIGNING",
    "Issued",
    "issue_province_ca",
    "issue_root",
    "issue_seal",
    "issue_tsa",
]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
ORGANIZATION_IDENTIFIER = ObjectIdentifier("2.5.4.97")
_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Issued:
    """A key pair and its certificate."""

    key: PrivateKey
    cert: x509.Certificate


def _name(*parts: tuple[ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts])


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    years: int,
    now: datetime | None,
) -> x509.CertificateBuilder:
    start = (now or datetime.now(UTC)) - _CLOCK_SKEW
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(secrets.randbits(127) | 1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * years))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _signing_usage() -> x509.KeyUsage:
    """digitalSignature + nonRepudiation (contentCommitment): what a seal or a TSA signs with."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _aki(parent: Issued) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key())


def issue_root(
    name: str = "ecert 国家电子证照根 CA", *, years: int = 20, now: datetime | None = None
) -> Issued:
    """A self-signed national root."""
    key = ec.generate_private_key(ec.SECP384R1())
    subject = _name(
        (NameOID.COUNTRY_NAME, "CN"),
        (NameOID.ORGANIZATION_NAME, "ecert"),
        (NameOID.COMMON_NAME, name),
    )
    cert = (
        _builder(subject, subject, key.public_key(), years, now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .sign(key, hashes.SHA384())
    )
    return Issued(key, cert)


def issue_province_ca(
    root: Issued, code: str, province_name: str, *, years: int = 10, now: datetime | None = None
) -> Issued:
    """A province CA under the root; it may issue end-entity certificates only."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(
        (NameOID.COUNTRY_NAME, "CN"),
        (NameOID.STATE_OR_PROVINCE_NAME, province_name),
        (NameOID.ORGANIZATION_NAME, "ecert"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, f"province {code}"),
        (NameOID.COMMON_NAME, f"{province_name}电子印章 CA"),
    )
    cert = (
        _builder(subject, root.cert.subject, key.public_key(), years, now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(_aki(root), critical=False)
        .sign(root.key, hashes.SHA384())
    )
    return Issued(key, cert)


def issue_seal(
    province_ca: Issued,
    *,
    department: str,
    organization_id: str,
    province_name: str,
    years: int = 3,
    now: datetime | None = None,
) -> Issued:
    """A department's organisational e-seal certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(
        (NameOID.COUNTRY_NAME, "CN"),
        (NameOID.STATE_OR_PROVINCE_NAME, province_name),
        (NameOID.ORGANIZATION_NAME, department),
        (ORGANIZATION_IDENTIFIER, organization_id),
        (NameOID.COMMON_NAME, f"{department} 电子印章"),
    )
    cert = (
        _builder(subject, province_ca.cert.subject, key.public_key(), years, now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_signing_usage(), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(_aki(province_ca), critical=False)
        .sign(province_ca.key, hashes.SHA256())
    )
    return Issued(key, cert)


def issue_tsa(
    province_ca: Issued, *, province_name: str, years: int = 5, now: datetime | None = None
) -> Issued:
    """A province's RFC 3161 timestamp-authority certificate (EKU timeStamping, critical).
    RSA-2048: the timestamp service signs tokens with pyHanko's RSA-only token builder."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = _name(
        (NameOID.COUNTRY_NAME, "CN"),
        (NameOID.STATE_OR_PROVINCE_NAME, province_name),
        (NameOID.ORGANIZATION_NAME, "ecert"),
        (NameOID.COMMON_NAME, f"{province_name}时间戳服务"),
    )
    cert = (
        _builder(subject, province_ca.cert.subject, key.public_key(), years, now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_signing_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(_aki(province_ca), critical=False)
        .sign(province_ca.key, hashes.SHA256())
    )
    return Issued(key, cert)
