"""What a verification knows, as frozen values: the *subject* (which certificate, with the values
its leaf binds), built once from the QR code, the embedded claims or the proof record; and the
*evidence* gathered along the way (the parsed PDF, the seal's validation status, the proof, the
anchor...). A check that learns something returns new evidence (``dataclasses.replace``); nothing
is changed halfway."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.status import PdfSignatureStatus

from ledger.ofd import OfdPackage
from ledger.ofddoc import OfdDocument
from ledger.ofdseal import OfdSealReport, SignatureCheck
from ledger.presentation import Presentation
from ledger.proofrecord import ProofRecord
from ledger.qrpayload import QrPayload
from ledger.records import Anchor, Issuer
from verifier.document import EmbeddedClaims

__all__ = ["Evidence", "Subject", "TimeOfExistence"]

_NO_REVISION = b"\xff" * 32


@dataclass(frozen=True, slots=True)
class Subject:
    """The certificate being verified, as the presented input describes it."""

    issuer_id: str
    certificate_id: str
    cert_type: str | None = None
    """``None`` when only the number was given (the proof record then says)."""
    claims_commitment: bytes | None = None
    document_digest: bytes | None = None
    """SHA-256 of the presented file; ``None`` without a document (the record's is used)."""
    revision_digest: bytes | None = None
    """SHA-256 of the presented file's sealed revision (what a version-2 leaf binds)."""
    ofd_digest: bytes | None = None
    """SHA-256 of the presented OFD file (what a version-3 leaf binds beside the PDF's);
    ``None`` unless an OFD was presented (the proof record's then stands)."""
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    @classmethod
    def from_qr(cls, payload: QrPayload) -> Subject:
        return cls(
            issuer_id=payload.issuer_id,
            certificate_id=payload.certificate_id,
            cert_type=payload.cert_type,
            claims_commitment=payload.claims_commitment,
            valid_from=payload.valid_from,
            valid_until=payload.valid_until,
        )

    @classmethod
    def from_record(cls, record: ProofRecord) -> Subject:
        """What a proof record says (no document presented: the record's digest stands)."""
        return cls(
            issuer_id=record.issuer_id,
            certificate_id=record.certificate_id,
            cert_type=record.cert_type,
            claims_commitment=record.claims_commitment,
            valid_from=record.valid_from,
            valid_until=record.valid_until,
        )

    def digest_for(self, leaf_version: int) -> bytes | None:
        """The presented PDF's digest as a leaf of that version binds it; ``None`` when no PDF
        was presented (the proof record's digest then stands). A PDF whose sealed revision
        cannot be found gets a digest no leaf holds."""
        if self.document_digest is None:
            return None
        if leaf_version >= 2:
            return self.revision_digest or _NO_REVISION
        return self.document_digest

    def completed_by(self, record: ProofRecord) -> Subject:
        """A subject known only by its number, completed from its proof record (which the
        anchor then vouches for); any other subject is returned as it is."""
        if self.cert_type is not None:
            return self
        return Subject.from_record(record)


@dataclass(frozen=True, slots=True)
class TimeOfExistence:
    """A trusted time by which the sealed certificate existed: what its seal is judged at."""

    moment: datetime
    source: str
    """``anchor`` (the block that anchored it: the consortium attests the time) or
    ``timestamp`` (a valid RFC 3161 timestamp on the seal, earlier than the anchor)."""
    block: int | None = None
    """The anchoring block, when the anchor is known."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything found so far; each field is set once, by the check that found it."""

    subject: Subject | None = None
    # a PDF
    pdf: bytes | None = None
    reader: PdfFileReader | None = None
    seal_cert: asn1_x509.Certificate | None = None
    """The certificate the seal names (read before validation, so it is known even if
    validation fails)."""
    seal_status: PdfSignatureStatus | None = None
    seal_validated_at: datetime | None = None
    """The time the seal's certificates were judged at (the time of existence, else now)."""
    existence: TimeOfExistence | None = None
    embedded: EmbeddedClaims | None = None
    # an OFD
    ofd: bytes | None = None
    ofd_package: OfdPackage | None = None
    ofd_document: OfdDocument | None = None
    """Where the package's document, pages and attachments are."""
    ofd_seals: OfdSealReport | None = None
    """The SM2 e-seal primitive's findings (``ledger.ofdseal``)."""
    sm2_seal: SignatureCheck | None = None
    """The package's first (an OFD certificate's only) SM2 e-seal."""
    # a QR code (printed on the page, photographed, or as text)
    qr_texts: tuple[str, ...] = ()
    """What a decoder read off an image; empty for text input."""
    image_problem: str | None = None
    """Why an image could not be read (too large, not an image, decoder failure)."""
    qr: QrPayload | None = None
    # a holder's presentation
    presentation_text: str | None = None
    presentation: Presentation | None = None
    # the registry
    issuer: Issuer | None = None
    record: ProofRecord | None = None
    """The certificate's public proof: fetched, or carried by a presentation."""
    leaf_hash: bytes | None = None
    anchor: Anchor | None = None

    def but(self, **changes: Any) -> Evidence:
        """A copy with ``changes`` (``dataclasses.replace`` without its per-call field
        introspection: this runs a few times per verification on the hot path)."""
        new = object.__new__(Evidence)
        for name in _EVIDENCE_FIELDS:
            object.__setattr__(
                new, name, changes.pop(name) if name in changes else getattr(self, name)
            )
        if changes:
            raise TypeError(f"Evidence has no field {sorted(changes)}")
        return new


_EVIDENCE_FIELDS = tuple(f.name for f in fields(Evidence))
