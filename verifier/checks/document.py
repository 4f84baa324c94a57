"""The document file: a readable PDF, with the certificate data embedded in its sealed revision
matching the salted commitment it carries."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import UTC, datetime

from pyhanko.pdf_utils.decode_limits import DecodeLimits, DocumentDecodeBudget, StreamDecodeLimits
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader

from ledger.claims import ClaimsCommitment
from ledger.digest import sealed_revision_digest
from ledger.errors import MerkleError
from verifier.context import Context
from verifier.document import EmbeddedClaims, read_embedded_claims
from verifier.errors import DocumentMalformed
from verifier.evidence import Evidence, Subject
from verifier.limits import MAX_PDF_BYTES
from verifier.names import CheckName
from verifier.reasons import ReasonCode
from verifier.result import Check, Status
from verifier.runner import Found

__all__ = ["DECODE_LIMITS", "MAX_PDF_BYTES", "document_claims", "document_format", "judge_claims"]

_MIB = 1024 * 1024
DECODE_LIMITS = DecodeLimits(
    per_stream=StreamDecodeLimits(max_output_size=16 * _MIB),
    document_budget=DocumentDecodeBudget(base_allowance=64 * _MIB, max_ratio=20),
)
"""How much pyHanko may decompress (a certificate decodes to well under 1 MB in all): a small
PDF whose streams inflate to gigabytes fails to read instead of filling memory."""
FORMAT = CheckName.DOCUMENT_FORMAT
CLAIMS = CheckName.DOCUMENT_CLAIMS


def document_format(evidence: Evidence, _ctx: Context) -> Check | Found:
    data = evidence.pdf or b""
    if len(data) > MAX_PDF_BYTES:
        return Check(FORMAT, Status.INVALID, ReasonCode.NOT_A_PDF, detail="larger than 10 MB")
    if data.lstrip()[:5] != b"%PDF-":
        return Check(FORMAT, Status.INVALID, ReasonCode.NOT_A_PDF)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False, decode_limits=DECODE_LIMITS)
        _ = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
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
    try:
        embedded = read_embedded_claims(evidence.reader)
    except DocumentMalformed as exc:
        return Check(CLAIMS, Status.INVALID, ReasonCode.DOCUMENT_MALFORMED, detail=str(exc))
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
