"""Certificate revocation lists (RFC 5280): one per CA — the national root's lists revoked
province CAs, a province CA's lists revoked seal and TSA certificates. The province service
that issues timestamps publishes both (``GET /crl/<code>.crl``, ``GET /crl/root.crl``), and
B-LT seals embed them, so a validator we did not write can check the seal years later.

Revocations are recorded beside the PKI (``revoked.json`` in the CA's folder); the registry's
seal revocation (with its effective time) is what ecert's own verifiers decide on."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from issuer.pki import Issued

__all__ = ["CRL_DAYS", "RevokedEntry", "build_crl", "read_revoked", "record_revoked"]

CRL_DAYS = 7
"""A CRL's nextUpdate: how long a copy may be relied on without fetching a newer one."""
_REASONS = {
    "unspecified": x509.ReasonFlags.unspecified,
    "key-compromise": x509.ReasonFlags.key_compromise,
    "ca-compromise": x509.ReasonFlags.ca_compromise,
    "superseded": x509.ReasonFlags.superseded,
    "cessation-of-operation": x509.ReasonFlags.cessation_of_operation,
    "privilege-withdrawn": x509.ReasonFlags.privilege_withdrawn,
    "affiliation-changed": x509.ReasonFlags.affiliation_changed,
}


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    serial: int
    revoked_at: datetime
    reason: str
    """One of the RFC 5280 reasons, spelt as on the command line (``key-compromise``)."""


def build_crl(
    ca: Issued, revoked: Iterable[RevokedEntry], *, now: datetime | None = None, number: int = 1
) -> bytes:
    """The CA's CRL (DER), valid for ``CRL_DAYS``."""
    issued = (now or datetime.now(UTC)).replace(microsecond=0)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(issued)
        .next_update(issued + timedelta(days=CRL_DAYS))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    for entry in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.revoked_at)
            .add_extension(x509.CRLReason(_REASONS[entry.reason]), critical=False)
            .build()
        )
    key = ca.key
    big = isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384
    crl = builder.sign(key, hashes.SHA384() if big else hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER)


def read_revoked(folder: Path) -> list[RevokedEntry]:
    path = folder / "revoked.json"
    if not path.is_file():
        return []
    return [
        RevokedEntry(int(e["serial"]), datetime.fromisoformat(e["revoked_at"]), str(e["reason"]))
        for e in json.loads(path.read_text("utf-8"))
    ]


def record_revoked(folder: Path, entry: RevokedEntry) -> None:
    """Add (or move earlier) a revocation in the CA folder's list."""
    if entry.reason not in _REASONS:
        raise ValueError(f"unknown reason {entry.reason!r}; one of {sorted(_REASONS)}")
    entries = {e.serial: e for e in read_revoked(folder)}
    known = entries.get(entry.serial)
    if known is None or entry.revoked_at < known.revoked_at:
        entries[entry.serial] = entry
    rows = [
        {"serial": str(e.serial), "revoked_at": e.revoked_at.isoformat(), "reason": e.reason}
        for e in sorted(entries.values(), key=lambda e: e.serial)
    ]
    (folder / "revoked.json").write_text(json.dumps(rows, indent=1), "utf-8")
