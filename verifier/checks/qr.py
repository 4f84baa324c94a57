"""The QR code: read (from text or a photo), the one printed on the page is this certificate's,
and it was signed by an account of its issuer."""

from __future__ import annotations

from dataclasses import replace

from ledger.ofd import OfdError
from ledger.qrpayload import QrPayload, QrPayloadError, decode_qr_text
from verifier.context import Context
from verifier.document import page_qr_text
from verifier.errors import InputRefused
from verifier.evidence import Evidence, Subject
from verifier.names import CheckName
from verifier.ofdpage import ofd_page_qr_text
from verifier.reasons import ReasonCode
from verifier.renderpool import RenderFailed
from verifier.result import Check, Status
from verifier.runner import Found
from verifier.unavailable import unless_registry_usable

__all__ = [
    "qr_matches_document",
    "qr_matches_ofd",
    "qr_read_image",
    "qr_read_text",
    "qr_signature",
]

READ = CheckName.QR_READ
MATCHES = CheckName.QR_MATCHES_DOCUMENT
# Our payloads are ~200 characters; a decoder "finding" a few characters in fine print or a
# texture of a photo has not read a QR code of ours (nor anybody's worth judging).
_STRAY_BELOW = 20


def _decoded(texts: tuple[str, ...]) -> tuple[list[QrPayload], str]:
    payloads: list[QrPayload] = []
    problem = ""
    for text in texts:
        try:
            payloads.append(decode_qr_text(text))
        except QrPayloadError as exc:
            problem = problem or str(exc)
    return payloads, problem


def _read(evidence: Evidence, payload: QrPayload) -> Found:
    return Found(
        Check(READ, Status.VALID),
        evidence.but(qr=payload, subject=Subject.from_qr(payload)),
    )


def qr_read_text(evidence: Evidence, _ctx: Context) -> Check | Found:
    """QR text as given: anything that is not an ecert code is evidence that it is not one."""
    payloads, problem = _decoded(evidence.qr_texts[:1])
    if not payloads:
        return Check(READ, Status.INVALID, ReasonCode.QR_MALFORMED, detail=problem)
    return _read(evidence, payloads[0])


def qr_read_image(evidence: Evidence, _ctx: Context) -> Check | Found:
    """A photo or scan: no readable code means "take it again", never "not valid"; a real QR
    code that is not an ecert code is evidence."""
    if evidence.image_problem is not None:
        return Check(READ, Status.ERROR, ReasonCode.QR_UNREADABLE, detail=evidence.image_problem)
    texts = tuple(t for t in evidence.qr_texts if len(t) >= _STRAY_BELOW)
    if not texts:
        return Check(READ, Status.ERROR, ReasonCode.QR_UNREADABLE, detail="no QR code found")
    payloads, problem = _decoded(texts)
    if not payloads:
        return Check(READ, Status.INVALID, ReasonCode.QR_MALFORMED, detail=problem)
    return _read(evidence, payloads[0])


def qr_matches_document(evidence: Evidence, _ctx: Context) -> Check | Found:
    """The QR printed on the page, read from a render as a camera would, is this certificate's:
    same issuer, type, number, claims commitment and validity."""
    assert evidence.pdf is not None
    try:
        texts = page_qr_text(evidence.pdf)
    except InputRefused as exc:  # too many pages, a page far larger than ours: evidence
        return Check(MATCHES, Status.INVALID, ReasonCode.DOCUMENT_MALFORMED, detail=str(exc))
    except RenderFailed as exc:  # out of time or memory, crashed: could not check
        return Check(MATCHES, Status.ERROR, ReasonCode.PAGE_NOT_RENDERED, detail=str(exc))
    except Exception as exc:  # pdfium could not draw the page: could not check
        return Check(MATCHES, Status.ERROR, ReasonCode.PAGE_NOT_RENDERED, detail=type(exc).__name__)
    return _page_qr_matches(evidence, texts)


def qr_matches_ofd(evidence: Evidence, _ctx: Context) -> Check | Found:
    """The same for an OFD: its page's path objects rasterised (the QR code is drawn as
    vectors) and decoded as a camera would."""
    assert evidence.ofd_package is not None
    assert evidence.ofd_document is not None
    try:
        texts = ofd_page_qr_text(evidence.ofd_package, evidence.ofd_document)
    except OfdError as exc:  # beyond the drawing limits, or a page that does not parse
        return Check(MATCHES, Status.ERROR, ReasonCode.PAGE_NOT_RENDERED, detail=str(exc)[:200])
    except Exception as exc:  # the page could not be drawn: could not check
        return Check(MATCHES, Status.ERROR, ReasonCode.PAGE_NOT_RENDERED, detail=type(exc).__name__)
    return _page_qr_matches(evidence, texts)


def _page_qr_matches(evidence: Evidence, texts: list[str]) -> Check | Found:
    assert evidence.subject is not None
    if not texts:
        return Check(MATCHES, Status.INVALID, ReasonCode.QR_MISSING)
    payloads, problem = _decoded(tuple(texts))  # a decoder may "find" a code in fine print
    if not payloads:
        return Check(MATCHES, Status.INVALID, ReasonCode.QR_MALFORMED, detail=problem)
    payload = payloads[0]
    found = evidence.but(qr=payload)
    if any(p != payload for p in payloads[1:]):
        return Found(
            Check(
                MATCHES,
                Status.INVALID,
                ReasonCode.QR_MISMATCH,
                detail="the page carries QR codes of different certificates",
            ),
            found,
        )
    if Subject.from_qr(payload) != replace(
        evidence.subject, document_digest=None, revision_digest=None, ofd_digest=None
    ):
        return Found(
            Check(
                MATCHES,
                Status.INVALID,
                ReasonCode.QR_MISMATCH,
                detail=f"the QR code is for {payload.certificate_id}",
            ),
            found,
        )
    return Found(Check(MATCHES, Status.VALID), found)


def qr_signature(evidence: Evidence, ctx: Context) -> Check:
    name = CheckName.QR_SIGNATURE
    payload = evidence.qr
    assert payload is not None
    unusable = unless_registry_usable(name, ctx)
    if unusable is not None:
        return unusable
    try:
        signer = payload.signer()
    except QrPayloadError as exc:
        return Check(name, Status.INVALID, ReasonCode.QR_SIGNATURE_INVALID, detail=str(exc))
    if signer.lower() in ctx.registry.issuer_accounts(payload.issuer_id):
        return Check(name, Status.VALID, data={"account": signer})
    return Check(
        name, Status.INVALID, ReasonCode.QR_SIGNATURE_INVALID, detail=f"signed by {signer}"
    )
