"""The national-standard PKI beside the ECDSA one: an SM2 national root → SM2 province CAs →
per province a seal-making certificate (制章者, it signs the departments' ``SES_Seal``) and per
department an SM2 seal certificate (签章者, it signs OFD documents).

Certificates follow GB/T 20518-2018: X.509 v3, SM3-with-SM2 signatures (no algorithm
parameters), SM2 keys as ``id-ecPublicKey`` on sm2p256v1, positive serials, key identifiers,
critical basic constraints and key usage. The seal profile matches the PAdES one (key usage
digitalSignature + nonRepudiation, extended key usage documentSigning). They are built with
asn1crypto and signed with ``ledger.sm2``: ``cryptography`` cannot load SM2 keys.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import x509

from ledger import sm2

__all__ = [
    "Sm2Issued",
    "issue_sm2_province_ca",
    "issue_sm2_root",
    "issue_sm2_seal",
    "issue_sm2_seal_maker",
    "key_identifier",
]

DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"
_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Sm2Issued:
    """An SM2 key pair and its certificate."""

    key: sm2.Sm2KeyPair
    cert: x509.Certificate

    @property
    def der(self) -> bytes:
        return bytes(self.cert.dump())


def key_identifier(public: bytes) -> bytes:
    """Subject key identifier: the leftmost 160 bits of SM3 over the public key's BIT STRING
    value (RFC 5280 §4.2.1.2 method 1, with the national digest)."""
    return sm2.sm3(b"\x04" + public)[:20]


def _name(pairs: list[tuple[str, str]]) -> x509.Name:
    return x509.Name.build(dict(pairs), use_printable=False)


def _extension(oid: str, critical: bool, value: object) -> x509.Extension:
    return x509.Extension({"extn_id": oid, "critical": critical, "extn_value": value})


def _sign(
    subject: x509.Name,
    key: sm2.Sm2KeyPair,
    issuer_name: x509.Name,
    issuer_key: sm2.Sm2KeyPair,
    years: int,
    now: datetime | None,
    extensions: list[x509.Extension],
) -> x509.Certificate:
    start = (now or datetime.now(UTC)).replace(microsecond=0) - _CLOCK_SKEW
    algorithm = {"algorithm": sm2.SM3_WITH_SM2}
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": secrets.randbits(127) | 1,
            "signature": algorithm,
            "issuer": issuer_name,
            "validity": {
                "not_before": x509.Time({"utc_time": start}),
                "not_after": x509.Time({"utc_time": start + timedelta(days=365 * years)}),
            },
            "subject": subject,
            "subject_public_key_info": sm2.public_key_info(key.public),
            "extensions": [
                _extension("key_identifier", False, key_identifier(key.public)),
                _extension(
                    "authority_key_identifier",
                    False,
                    {"key_identifier": key_identifier(issuer_key.public)},
                ),
                *extensions,
            ],
        }
    )
    signature = sm2.sign(issuer_key, tbs.dump())
    return x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": algorithm, "signature_value": signature}
    )


def _ca(path_length: int) -> list[x509.Extension]:
    return [
        _extension("basic_constraints", True, {"ca": True, "path_len_constraint": path_length}),
        _extension("key_usage", True, {"key_cert_sign", "crl_sign"}),
    ]


def _signer(extended: list[str]) -> list[x509.Extension]:
    return [
        _extension("basic_constraints", True, {"ca": False}),
        _extension("key_usage", True, {"digital_signature", "non_repudiation"}),
        _extension("extended_key_usage", False, extended),
    ]


def issue_sm2_root(
    name: str = "ecert 国家电子证照根 CA (SM2)", *, years: int = 20, now: datetime | None = None
) -> Sm2Issued:
    """A self-signed SM2 national root."""
    key = sm2.generate()
    subject = _name([("country_name", "CN"), ("organization_name", "ecert"), ("common_name", name)])
    return Sm2Issued(key, _sign(subject, key, subject, key, years, now, _ca(1)))


def issue_sm2_province_ca(
    root: Sm2Issued, code: str, province_name: str, *, years: int = 10, now: datetime | None = None
) -> Sm2Issued:
    """A province CA under the SM2 root; it issues end-entity certificates only."""
    key = sm2.generate()
    subject = _name(
        [
            ("country_name", "CN"),
            ("state_or_province_name", province_name),
            ("organization_name", "ecert"),
            ("organizational_unit_name", f"province {code}"),
            ("common_name", f"{province_name}电子印章 SM2 CA"),
        ]
    )
    issuer = root.cert["tbs_certificate"]["subject"]
    return Sm2Issued(key, _sign(subject, key, issuer, root.key, years, now, _ca(0)))


def issue_sm2_seal_maker(
    province_ca: Sm2Issued, province_name: str, *, years: int = 5, now: datetime | None = None
) -> Sm2Issued:
    """The province's seal-making certificate (制章者): it signs departments' ``SES_Seal``."""
    key = sm2.generate()
    subject = _name(
        [
            ("country_name", "CN"),
            ("state_or_province_name", province_name),
            ("organization_name", "ecert"),
            ("common_name", f"{province_name}电子印章制作系统"),
        ]
    )
    issuer = province_ca.cert["tbs_certificate"]["subject"]
    return Sm2Issued(
        key, _sign(subject, key, issuer, province_ca.key, years, now, _signer([DOCUMENT_SIGNING]))
    )


def issue_sm2_seal(
    province_ca: Sm2Issued,
    *,
    department: str,
    organization_id: str,
    province_name: str,
    years: int = 3,
    now: datetime | None = None,
) -> Sm2Issued:
    """A department's SM2 seal certificate (签章者); it signs OFD certificates."""
    key = sm2.generate()
    subject = _name(
        [
            ("country_name", "CN"),
            ("state_or_province_name", province_name),
            ("organization_name", department),
            ("organization_identifier", organization_id),
            ("common_name", f"{department} 电子印章 (SM2)"),
        ]
    )
    issuer = province_ca.cert["tbs_certificate"]["subject"]
    extended = [DOCUMENT_SIGNING, "email_protection"]
    return Sm2Issued(
        key, _sign(subject, key, issuer, province_ca.key, years, now, _signer(extended))
    )
