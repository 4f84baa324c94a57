"""Certificates as OFD documents (GB/T 33190-2016) sealed with an SM2 e-seal (GB/T 38540):
the same page, claims and QR code as the PAdES PDF, for systems that expect the national
formats. ``write_ofd`` is the whole job; the modules hold its parts."""

from __future__ import annotations

from datetime import datetime

from issuer.ofd.package import build_package
from issuer.ofd.seal import OfdSealer
from issuer.render import CertificateDocument

__all__ = ["OfdSealer", "write_ofd"]


def write_ofd(doc: CertificateDocument, sealer: OfdSealer, *, now: datetime | None = None) -> bytes:
    """The sealed OFD file of one certificate."""
    package, page = build_package(doc, stamp_mm=sealer.stamp_mm)
    return sealer.seal(package, page, now=now).to_zip(modified=doc.issued_at)
