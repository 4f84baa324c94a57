"""The seal checks: pyHanko validates the PAdES signature; its findings become separate checks
with their own reason codes (intact, unmodified, trusted, fit for sealing, timestamp)."""

from __future__ import annotations

from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation.status import PdfSignatureStatus, TimestampSignatureStatus

from verifier.reasons import ReasonCode
from verifier.result import Check, Status

__all__ = ["DOCUMENT_SIGNING", "seal_checks"]

DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"
_ALLOWED_LATER = {"NONE", "LTA_UPDATES", "FORM_FILLING"}


def _key_usage_ok(cert: asn1_x509.Certificate) -> bool:
    usage = cert.key_usage_value.native if cert.key_usage_value else set()
    extended = cert.extended_key_usage_value.native if cert.extended_key_usage_value else []
    dotted = {asn1_x509.KeyPurposeId.map(e) if not e[0].isdigit() else e for e in extended}
    names = set(extended) | dotted
    return {"digital_signature", "non_repudiation"} <= set(usage) and (
        DOCUMENT_SIGNING in names or "document_signing" in names
    )


def seal_checks(status: PdfSignatureStatus, *, have_trust_roots: bool) -> list[Check]:
    cert: asn1_x509.Certificate = status.signing_cert
    who: dict[str, Any] = {
        "signer": cert.subject.human_friendly,
        "issuer": cert.issuer.human_friendly,
    }
    checks = [Check("seal.present", Status.VALID, data=who)]
    if status.intact and status.valid:
        checks.append(Check("seal.intact", Status.VALID))
    else:
        checks.append(Check("seal.intact", Status.INVALID, ReasonCode.SEAL_BROKEN))
    level = status.modification_level.name if status.modification_level else "OTHER"
    coverage = status.coverage.name if status.coverage else "UNCLEAR"
    if coverage == "ENTIRE_FILE" or (
        coverage == "ENTIRE_REVISION" and level in _ALLOWED_LATER and status.docmdp_ok
    ):
        checks.append(Check("seal.unmodified", Status.VALID, data={"coverage": coverage}))
    else:
        checks.append(
            Check(
                "seal.unmodified",
                Status.INVALID,
                ReasonCode.SEAL_MODIFIED,
                detail=f"coverage {coverage}, later changes {level}",
            )
        )
    if not have_trust_roots:
        checks.append(Check("seal.trusted", Status.ERROR, ReasonCode.TRUST_LIST_MISSING))
    elif status.trusted:
        checks.append(Check("seal.trusted", Status.VALID))
    else:
        signed_at = status.signer_reported_dt
        not_after = cert["tbs_certificate"]["validity"]["not_after"].native
        not_before = cert["tbs_certificate"]["validity"]["not_before"].native
        if signed_at is not None and not (not_before <= signed_at <= not_after):
            checks.append(Check("seal.trusted", Status.INVALID, ReasonCode.SEAL_CERT_EXPIRED))
        else:
            checks.append(
                Check(
                    "seal.trusted",
                    Status.INVALID,
                    ReasonCode.SEAL_UNTRUSTED,
                    detail=str(status.trust_problem_indic or ""),
                )
            )
    if _key_usage_ok(cert):
        checks.append(Check("seal.key_usage", Status.VALID))
    else:
        checks.append(Check("seal.key_usage", Status.INVALID, ReasonCode.SEAL_KEY_USAGE))
    ts: TimestampSignatureStatus | None = status.timestamp_validity
    if ts is None:
        checks.append(
            Check(
                "seal.timestamp",
                Status.SKIPPED,
                ReasonCode.NOT_APPLICABLE,
                detail="PAdES B-B: no timestamp",
            )
        )
    elif ts.intact and ts.valid and (ts.trusted or not have_trust_roots):
        checks.append(
            Check(
                "seal.timestamp",
                Status.VALID,
                data={"time": ts.timestamp.isoformat()},
            )
        )
    else:
        checks.append(Check("seal.timestamp", Status.INVALID, ReasonCode.TIMESTAMP_INVALID))
    return checks
