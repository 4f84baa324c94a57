"""The document file: a readable PDF, with the certificate data embedded in its sealed revision
matching the salted commitment it carries."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import UTC, datetime

from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader

from ledger.claims import ClaimsCommitment
from ledger.digest import sealed_revision_digest
from ledger.errors import MerkleError
from verifier.context import Context
from verifier.document import EmbeddedClaims, read_embedded_claims
from verifier.evidence import Evidence, Subject
from verifier.names import CheckName
from verifier.reasons import ReasonCode
from verifier.result import Check, Status
from verifier.runner import Found

__all__ = ["MAX_PDF_BYTES", "document_claims", "document_format", "judge_claims"]

MAX_PDF_BYTES = 10 * 1024 * 1024
FORMAT = CheckName.DOCUMENT_FORMAT
CLAIMS = CheckName.DOCUMENT_CLAIMS


def document_format(evidence: Evidence, _ctx: Context) -> Check | Found:
    data = evidence.pdf or b""
    if len(data) > MAX_PDF_BYTES:
        return Check(FORMAT, Status.INVALID, ReasonCode.NOT_A_PDF, detail="larger than 10 MB")
    if data.lstrip()[:5] != b"%PDF-":
        return Check(FORMAT, Status.INVALID, ReasonCode.NOT_A_PDF)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        _ = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError) as exc:
        return Check(FORMAT, Status.INVALID, ReasonCode.NOT_A_PDF, detail=str(exc)[:200])
    return Found(Check(FORMAT, Status.VALID), evidence.but(reader=reader))


def _moment(text: object) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(str(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _revision_digest(evidence: Evidence) -> bytes | None:
    """The sealed revision's digest, if the file carries a seal with a sound byte range."""
    assert evidence.reader is not None
    assert evidence.pdf is not None
    signatures = evidence.reader.embedded_signatures
    if not signatures:
        return None
    try:
        return sealed_revision_digest(evidence.pdf, [int(v) for v in signatures[0].byte_range])
    except (ValueError, TypeError):
        return None


def document_claims(evidence: Evidence, _ctx: Context) -> Check | Found:
    """The ``ecert-claims.json`` attachment: which certificate this is, and its fields, whose
    salted commitment must be the one the attachment states (and the anchor binds)."""
    assert evidence.reader is not None
    assert evidence.pdf is not None
    embedded = read_embedded_claims(evidence.reader)
    if embedded is None:
        return Check(CLAIMS, Status.INVALID, ReasonCode.DOCUMENT_NO_CLAIMS)
    return judge_claims(
        evidence,
        embedded,
        Subject(
            issuer_id="",
            certificate_id="",
            document_digest=hashlib.sha256(evidence.pdf).digest(),
            revision_digest=_revision_digest(evidence),
        ),
    )


def judge_claims(evidence: Evidence, embedded: EmbeddedClaims, digests: Subject) -> Check | Found:
    """``document.claims`` for any document: the subject the attachment describes (with the
    presented file's digests, taken from ``digests``) and whether its fields give the salted
    commitment it states."""
    raw = embedded.raw
    try:
        secret = bytes.fromhex(str(raw["claims_secret"]))
        commitment = ClaimsCommitment(embedded.claims, secret).root
        subject = replace(
            digests,
            issuer_id=str(raw["issuer_id"]),
            certificate_id=str(raw["certificate_id"]),
            cert_type=str(raw["cert_type"]),
            claims_commitment=commitment,
            valid_from=_moment(raw.get("valid_from")),
            valid_until=_moment(raw.get("valid_until")),
        )
    except (KeyError, ValueError, TypeError, MerkleError) as exc:
        return Check(CLAIMS, Status.INVALID, ReasonCode.DOCUMENT_NO_CLAIMS, detail=str(exc)[:200])
    found = evidence.but(embedded=embedded, subject=subject)
    if raw.get("claims_commitment") != commitment.hex():
        return Found(Check(CLAIMS, Status.INVALID, ReasonCode.CLAIMS_MISMATCH), found)
    return Found(Check(CLAIMS, Status.VALID), found)
