"""The e-seal: a PAdES signature is present, pyHanko finds it intact, nothing but validation data
or form filling was added after it, its certificate chains to a trusted province CA, the
certificate is one for sealing, and its timestamp (if any) is valid.

pyHanko's own verdict that a signature is invalid (``SignatureValidationError``) is evidence:
INVALID. Anything else it raises is a library that could not check: the runner makes it ERROR.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from verifier.context import Context
from verifier.evidence import Evidence, TimeOfExistence
from verifier.names import CheckName
from verifier.reasons import ReasonCode
from verifier.result import Check, Status
from verifier.runner import Found
from verifier.unavailable import not_applicable

__all__ = [
    "DOCUMENT_SIGNING",
    "key_usage_fits_sealing",
    "seal_intact",
    "seal_key_usage",
    "seal_present",
    "seal_timestamp",
    "seal_trusted",
    "seal_unmodified",
]

DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"
# Only validation data and document timestamps may follow the seal (B-LT, B-LTA): a
# version-2 leaf binds the sealed revision, so anything else added later is unanchored content.
_ALLOWED_LATER = {"NONE", "LTA_UPDATES"}


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


def _validate(
    evidence: Evidence, ctx: Context, signer_at: datetime, timestamp_at: datetime
) -> PdfSignatureStatus:
    assert evidence.reader is not None
    roots = list(ctx.trust_roots)
    return validate_pdf_signature(
        evidence.reader.embedded_signatures[0],
        ValidationContext(trust_roots=roots, allow_fetching=False, moment=signer_at),
        ts_validation_context=ValidationContext(
            trust_roots=roots, allow_fetching=False, moment=timestamp_at
        ),
    )


def seal_intact(evidence: Evidence, ctx: Context) -> Check | Found:
    """Validates the seal once (the later seal checks read what this found), at the
    certificate's time of existence: the anchor's block time when the anchor is known, or an
    earlier valid timestamp on the seal; with neither, now. A seal made while its certificate
    was valid therefore stays valid after the certificate expires."""
    anchor = evidence.anchor
    existence = TimeOfExistence(anchor.timestamp, "anchor", anchor.block_number) if anchor else None
    judged_at = existence.moment if existence else ctx.now
    try:
        status = _validate(evidence, ctx, judged_at, judged_at)
        stamp = status.timestamp_validity
        stamped = stamp is not None and stamp.intact and stamp.valid and stamp.trusted
        if stamp is not None and stamped and (judged_at > stamp.timestamp):
            if not status.trusted:  # sealed in time, anchored (or looked at) too late
                status = _validate(evidence, ctx, stamp.timestamp, judged_at)
                judged_at = stamp.timestamp
            block = existence.block if existence else None
            existence = TimeOfExistence(stamp.timestamp, "timestamp", block)
    except SignatureValidationError as exc:
        return Check(
            CheckName.SEAL_INTACT, Status.INVALID, ReasonCode.SEAL_BROKEN, detail=str(exc)[:200]
        )
    found = evidence.but(seal_status=status, seal_validated_at=judged_at, existence=existence)
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


def _outside_validity(
    evidence: Evidence, ctx: Context, moment: datetime
) -> asn1_x509.Certificate | None:
    """The first certificate of the seal's chain (by names, as far as it can be followed
    through the seal's own certificates and the roots) that was not valid at ``moment``."""
    assert evidence.seal_cert is not None
    assert evidence.reader is not None
    embedded = list(evidence.reader.embedded_signatures[0].signed_data["certificates"] or [])
    pool = [c.chosen for c in embedded if c.name == "certificate"] + list(ctx.trust_roots)
    current: asn1_x509.Certificate = evidence.seal_cert
    for _ in range(8):
        validity = current["tbs_certificate"]["validity"]
        if not validity["not_before"].native <= moment <= validity["not_after"].native:
            return current
        if current.issuer == current.subject:
            return None
        parent = next((c for c in pool if c.subject == current.issuer), None)
        if parent is None:
            return None
        current = parent
    return None


def _when(evidence: Evidence) -> dict[str, Any]:
    existence = evidence.existence
    at = evidence.seal_validated_at
    return {
        "judged_at": at.isoformat() if at else None,
        "existence": existence.source if existence else None,
        "existence_time": existence.moment.isoformat() if existence else None,
        "block": existence.block if existence else None,
    }


def seal_trusted(evidence: Evidence, ctx: Context) -> Check:
    """The seal certificate chains to a trusted root and every certificate of the chain was
    valid at the time of existence. Outside its validity with a time of existence: the
    certificate came into being when its seal was not valid (INVALID); with no time of
    existence: nothing shows it existed while the seal was valid (could not check)."""
    status = evidence.seal_status
    assert status is not None
    assert evidence.seal_validated_at is not None
    name = CheckName.SEAL_TRUSTED
    if not ctx.trust_roots:
        return Check(name, Status.ERROR, ReasonCode.TRUST_LIST_MISSING)
    when = _when(evidence)
    if status.trusted:
        return Check(name, Status.VALID, data=when)
    stale = _outside_validity(evidence, ctx, evidence.seal_validated_at)
    if stale is not None:
        who = stale.subject.human_friendly
        if evidence.existence is None:
            return Check(
                name,
                Status.ERROR,
                ReasonCode.NO_PROOF_OF_EXISTENCE,
                detail=f"{who} is not valid now, and nothing proves when the seal was made",
                data=when,
            )
        return Check(
            name,
            Status.INVALID,
            ReasonCode.SEAL_CERT_EXPIRED,
            detail=f"{who} was not valid at {evidence.seal_validated_at.isoformat()}",
            data=when,
        )
    return Check(
        name,
        Status.INVALID,
        ReasonCode.SEAL_UNTRUSTED,
        detail=str(status.trust_problem_indic or ""),
        data=when,
    )


def key_usage_fits_sealing(cert: asn1_x509.Certificate) -> bool:
    """Key usage digitalSignature + nonRepudiation and extended key usage documentSigning: a
    certificate for sealing documents (PAdES and SM2 seals alike)."""
    usage = cert.key_usage_value.native if cert.key_usage_value else set()
    extended = cert.extended_key_usage_value.native if cert.extended_key_usage_value else []
    dotted = {asn1_x509.KeyPurposeId.map(e) if not e[0].isdigit() else e for e in extended}
    names = set(extended) | dotted
    return {"digital_signature", "non_repudiation"} <= set(usage) and (
        DOCUMENT_SIGNING in names or "document_signing" in names
    )


def seal_key_usage(evidence: Evidence, _ctx: Context) -> Check:
    assert evidence.seal_cert is not None
    if key_usage_fits_sealing(evidence.seal_cert):
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
