"""The e-seal: a PAdES signature is present, pyHanko finds it intact, nothing but validation data
or form filling was added after it, its certificate chains to a trusted province CA, the
certificate is one for sealing, and its timestamp (if any) is valid.

pyHanko's own verdict that a signature is invalid (``SignatureValidationError``) is evidence:
INVALID. Anything else it raises is a library that could not check: the runner makes it ERROR.
"""

from __future__ import annotations

from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko_certvalidator import ValidationContext

from verifier.context import Context
from verifier.evidence import Evidence
from verifier.names import CheckName
from verifier.reasons import ReasonCode
from verifier.result import Check, Status
from verifier.runner import Found
from verifier.unavailable import not_applicable

__all__ = [
    "DOCUMENT_SIGNING",
    "seal_intact",
    "seal_key_usage",
    "seal_present",
    "seal_timestamp",
    "seal_trusted",
    "seal_unmodified",
]

DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"
_ALLOWED_LATER = {"NONE", "LTA_UPDATES", "FORM_FILLING"}


def seal_present(evidence: Evidence, _ctx: Context) -> Check | Found:
    assert evidence.reader is not None
    signatures = evidence.reader.embedded_signatures
    if not signatures:
        return Check(CheckName.SEAL_PRESENT, Status.INVALID, ReasonCode.SEAL_MISSING)
    cert: asn1_x509.Certificate = signatures[0].signer_cert
    who: dict[str, Any] = {
        "signer": cert.subject.human_friendly,
        "issuer": cert.issuer.human_friendly,
    }
    return Found(
        Check(CheckName.SEAL_PRESENT, Status.VALID, data=who), evidence.but(seal_cert=cert)
    )


def seal_intact(evidence: Evidence, ctx: Context) -> Check | Found:
    """Validates the seal once (the later seal checks read what this found)."""
    assert evidence.reader is not None
    context = ValidationContext(trust_roots=list(ctx.trust_roots), allow_fetching=False)
    try:
        status = validate_pdf_signature(evidence.reader.embedded_signatures[0], context)
    except SignatureValidationError as exc:
        return Check(
            CheckName.SEAL_INTACT, Status.INVALID, ReasonCode.SEAL_BROKEN, detail=str(exc)[:200]
        )
    found = evidence.but(seal_status=status)
    if status.intact and status.valid:
        return Found(Check(CheckName.SEAL_INTACT, Status.VALID), found)
    return Found(Check(CheckName.SEAL_INTACT, Status.INVALID, ReasonCode.SEAL_BROKEN), found)


def seal_unmodified(evidence: Evidence, _ctx: Context) -> Check:
    status = evidence.seal_status
    assert status is not None
    level = status.modification_level.name if status.modification_level else "OTHER"
    coverage = status.coverage.name if status.coverage else "UNCLEAR"
    if coverage == "ENTIRE_FILE" or (
        coverage == "ENTIRE_REVISION" and level in _ALLOWED_LATER and status.docmdp_ok
    ):
        return Check(CheckName.SEAL_UNMODIFIED, Status.VALID, data={"coverage": coverage})
    return Check(
        CheckName.SEAL_UNMODIFIED,
        Status.INVALID,
        ReasonCode.SEAL_MODIFIED,
        detail=f"coverage {coverage}, later changes {level}",
    )


def seal_trusted(evidence: Evidence, ctx: Context) -> Check:
    status = evidence.seal_status
    assert status is not None
    name = CheckName.SEAL_TRUSTED
    if not ctx.trust_roots:
        return Check(name, Status.ERROR, ReasonCode.TRUST_LIST_MISSING)
    if status.trusted:
        return Check(name, Status.VALID)
    cert: asn1_x509.Certificate = status.signing_cert
    signed_at = status.signer_reported_dt
    not_after = cert["tbs_certificate"]["validity"]["not_after"].native
    not_before = cert["tbs_certificate"]["validity"]["not_before"].native
    if signed_at is not None and not (not_before <= signed_at <= not_after):
        return Check(name, Status.INVALID, ReasonCode.SEAL_CERT_EXPIRED)
    return Check(
        name,
        Status.INVALID,
        ReasonCode.SEAL_UNTRUSTED,
        detail=str(status.trust_problem_indic or ""),
    )


def _key_usage_ok(cert: asn1_x509.Certificate) -> bool:
    usage = cert.key_usage_value.native if cert.key_usage_value else set()
    extended = cert.extended_key_usage_value.native if cert.extended_key_usage_value else []
    dotted = {asn1_x509.KeyPurposeId.map(e) if not e[0].isdigit() else e for e in extended}
    names = set(extended) | dotted
    return {"digital_signature", "non_repudiation"} <= set(usage) and (
        DOCUMENT_SIGNING in names or "document_signing" in names
    )


def seal_key_usage(evidence: Evidence, _ctx: Context) -> Check:
    assert evidence.seal_cert is not None
    if _key_usage_ok(evidence.seal_cert):
        return Check(CheckName.SEAL_KEY_USAGE, Status.VALID)
    return Check(CheckName.SEAL_KEY_USAGE, Status.INVALID, ReasonCode.SEAL_KEY_USAGE)


def seal_timestamp(evidence: Evidence, ctx: Context) -> Check:
    status = evidence.seal_status
    assert status is not None
    name = CheckName.SEAL_TIMESTAMP
    ts = status.timestamp_validity
    if ts is None:
        return not_applicable(name, "PAdES B-B: no timestamp")
    if ts.intact and ts.valid and (ts.trusted or not ctx.trust_roots):
        return Check(name, Status.VALID, data={"time": ts.timestamp.isoformat()})
    return Check(name, Status.INVALID, ReasonCode.TIMESTAMP_INVALID)
