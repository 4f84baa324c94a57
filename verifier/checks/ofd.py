"""An OFD document (GB/T 33190): a readable package, structured as the standard says — entry
file, document, pages, attachments, signatures — and its claims attachment matching the salted
commitment it states, bound to the exact bytes of the file presented."""

from __future__ import annotations

import hashlib
import json

from ledger.ofd import OfdError, OfdPackage, is_ofd
from ledger.ofddoc import read_document
from ledger.ofdseal import OfdSealReason, verify_ofd_seals
from verifier.context import Context
from verifier.document import ATTACHMENT_NAME, EmbeddedClaims
from verifier.evidence import Evidence, Subject
from verifier.names import CheckName
from verifier.reasons import ReasonCode
from verifier.result import Check, Status
from verifier.runner import Found

from .document import judge_claims

__all__ = ["MAX_OFD_BYTES", "ofd_claims", "ofd_format", "ofd_structure"]

MAX_OFD_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 256 * 1024
MAX_CONTAINERS = 200
"""JSON arrays and objects an attachment may hold (ours has three): bounds nesting before the
parser sees it, whatever the recursion limit of the thread it runs in."""
FORMAT = CheckName.DOCUMENT_FORMAT
STRUCTURE = CheckName.OFD_STRUCTURE
CLAIMS = CheckName.DOCUMENT_CLAIMS


def ofd_format(evidence: Evidence, _ctx: Context) -> Check | Found:
    """A ZIP package with ``OFD.xml``, read within the limits (entries, inflated bytes, names):
    a zip bomb or a truncated file is not a readable OFD."""
    data = evidence.ofd or b""
    if len(data) > MAX_OFD_BYTES:
        return Check(FORMAT, Status.INVALID, ReasonCode.NOT_AN_OFD, detail="larger than 10 MB")
    if not is_ofd(data):
        return Check(FORMAT, Status.INVALID, ReasonCode.NOT_AN_OFD, detail="not a ZIP with OFD.xml")
    try:
        package = OfdPackage.from_zip(data)
    except OfdError as exc:
        return Check(FORMAT, Status.INVALID, ReasonCode.NOT_AN_OFD, detail=str(exc)[:200])
    return Found(
        Check(FORMAT, Status.VALID, data={"files": len(package)}), evidence.but(ofd_package=package)
    )


def ofd_structure(evidence: Evidence, _ctx: Context) -> Check | Found:
    """``OFD.xml`` → ``Document.xml`` → its pages and attachments, every one present and
    well-formed XML in the OFD namespace where it is XML; the signatures read (the e-seal
    checks judge them)."""
    package = evidence.ofd_package
    assert package is not None
    try:
        document = read_document(package)
        for page in document.pages:
            package.xml(page)
        missing = sorted(p for p in document.attachments.values() if p not in package)
        if missing:
            raise OfdError(f"attachment {missing[0]} is missing")
    except OfdError as exc:
        return Check(STRUCTURE, Status.INVALID, ReasonCode.OFD_MALFORMED, detail=str(exc)[:200])
    seals = verify_ofd_seals(package)
    found = evidence.but(
        ofd_document=document,
        ofd_seals=seals,
        sm2_seal=seals.signatures[0] if seals.signatures else None,
    )
    for problem in seals.problems:
        if problem.reason is OfdSealReason.UNEXPECTED:  # the primitive could not check
            return Found(
                Check(STRUCTURE, Status.ERROR, ReasonCode.UNEXPECTED, detail=problem.message[:200]),
                found,
            )
        if problem.reason is OfdSealReason.MALFORMED:
            return Found(
                Check(
                    STRUCTURE,
                    Status.INVALID,
                    ReasonCode.OFD_MALFORMED,
                    detail=problem.message[:200],
                ),
                found,
            )
    data = {"pages": len(document.pages), "attachments": sorted(document.attachments)}
    return Found(Check(STRUCTURE, Status.VALID, data=data), found)


def ofd_claims(evidence: Evidence, _ctx: Context) -> Check | Found:
    """The ``ecert-claims.json`` attachment (the same JSON the PDF embeds), with the digest of
    the OFD file exactly as presented: what a version-3 leaf binds."""
    package, document = evidence.ofd_package, evidence.ofd_document
    assert package is not None
    assert document is not None
    assert evidence.ofd is not None
    path = document.attachments.get(ATTACHMENT_NAME)
    if path is None or path not in package:
        return Check(CLAIMS, Status.INVALID, ReasonCode.DOCUMENT_NO_CLAIMS)
    data = package[path]
    if len(data) > MAX_ATTACHMENT_BYTES or data.count(b"[") + data.count(b"{") > MAX_CONTAINERS:
        return Check(CLAIMS, Status.INVALID, ReasonCode.DOCUMENT_NO_CLAIMS, detail="too large")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return Check(
            CLAIMS, Status.INVALID, ReasonCode.DOCUMENT_NO_CLAIMS, detail=type(exc).__name__
        )
    if not isinstance(raw, dict):
        return Check(CLAIMS, Status.INVALID, ReasonCode.DOCUMENT_NO_CLAIMS, detail="not an object")
    digests = Subject(
        issuer_id="", certificate_id="", ofd_digest=hashlib.sha256(evidence.ofd).digest()
    )
    return judge_claims(evidence, EmbeddedClaims(raw), digests)
