"""An OFD's SM2 e-seal (GB/T 38540 §9, GB/T 33190 §18): present; every file it covers
unchanged and nothing outside it; the SM2 signature over ``TBS_Sign``; the ``SES_Seal`` made by
its seal maker for this signer and belonging to the issuing department; the signer's and the
maker's certificates chaining to a trusted SM2 root, the signer's fit for sealing, and the seal
within its validity — judged at the certificate's time of existence (the anchor's block time),
as the PAdES seal is.

The primitive ``ledger.ofdseal.verify_ofd_seals`` finds the problems (in ``ofd.structure``);
these checks sort them by what they mean. The registry lists each department's PAdES (ECDSA)
seal certificate only: ``seal.registered`` does not apply to an SM2 seal, and ``seal.status``
judges the department's registered seal at the anchor's block, as for a QR code, so the PDF, the
OFD, the QR code and the number of one certificate always get the same answer.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509

from ledger.ofdseal import OfdSealReason, Problem
from verifier.context import Context
from verifier.evidence import Evidence, TimeOfExistence
from verifier.names import CheckName
from verifier.reasons import ReasonCode
from verifier.result import Check, Status
from verifier.runner import Found
from verifier.unavailable import not_applicable

from .seal import key_usage_fits_sealing
from .sealstatus import seal_standing

__all__ = [
    "eseal_genuine",
    "eseal_validity",
    "ofd_references",
    "ofd_seal_registered",
    "ofd_seal_standing",
    "ofd_signature",
    "sm2_key_usage",
    "sm2_seal_present",
    "sm2_seal_trusted",
]

R = OfdSealReason
_REFERENCES = {
    # in the order they are reported: the signed list itself, then the files in it
    R.DATA_HASH_MISMATCH: ReasonCode.OFD_REFERENCES_CHANGED,
    R.PROPERTY_MISMATCH: ReasonCode.OFD_REFERENCES_CHANGED,
    R.CHECK_VALUE_MISMATCH: ReasonCode.OFD_FILE_CHANGED,
    R.REFERENCE_MISSING: ReasonCode.OFD_FILE_MISSING,
    R.FILE_NOT_COVERED: ReasonCode.OFD_FILE_NOT_SIGNED,
}
_SIGNATURE = {
    R.UNSUPPORTED_ALGORITHM: ReasonCode.OFD_ALGORITHM_UNSUPPORTED,
    R.SIGNATURE_INVALID: ReasonCode.OFD_SIGNATURE_INVALID,
}
_ESEAL = {
    R.SEAL_SIGNATURE_INVALID: ReasonCode.ESEAL_FORGED,
    R.SIGNER_NOT_IN_SEAL: ReasonCode.ESEAL_NOT_SIGNERS,
}


def _problems(evidence: Evidence) -> list[Problem]:
    report = evidence.ofd_seals
    assert report is not None
    return [*report.problems, *(p for s in report.signatures for p in s.problems)]


def _judge(name: CheckName, evidence: Evidence, codes: dict[OfdSealReason, ReasonCode]) -> Check:
    """INVALID with the first of ``codes`` (in their order) the primitive found, every such
    problem named in the detail; VALID if none."""
    found = [p for p in _problems(evidence) if p.reason in codes]
    if not found:
        return Check(name, Status.VALID)
    first = min(found, key=lambda p: list(codes).index(p.reason))
    return Check(
        name,
        Status.INVALID,
        codes[first.reason],
        detail="; ".join(dict.fromkeys(p.message for p in found))[:300],
        data={"problems": [p.reason.value for p in found][:20]},
    )


def sm2_seal_present(evidence: Evidence, _ctx: Context) -> Check | Found:
    """``seal.present``: ``OFD.xml`` names the signatures and one of them is an SM2 e-seal
    whose ``SignedValue.dat`` carries the signer's certificate."""
    name = CheckName.SEAL_PRESENT
    seal = evidence.sm2_seal
    if seal is None:
        why = next((p.message for p in _problems(evidence) if p.reason is R.NOT_SEALED), "")
        return Check(name, Status.INVALID, ReasonCode.SEAL_MISSING, detail=why)
    if seal.signer_certificate is None or seal.maker_certificate is None:
        return Check(
            name, Status.INVALID, ReasonCode.SEAL_MISSING, detail=f"{seal.path}: no signed value"
        )
    report = evidence.ofd_seals
    assert report is not None
    data = {
        "signer": seal.signer_certificate.subject.human_friendly,
        "issuer": seal.signer_certificate.issuer.human_friendly,
        "seal": seal.seal_name,
        "seal_id": seal.seal_id,
        "signed_at": seal.signed_at.isoformat() if seal.signed_at else None,
        "signatures": len(report.signatures),
    }
    return Check(name, Status.VALID, data=data)


def ofd_references(evidence: Evidence, _ctx: Context) -> Check:
    """``ofd.references``: the signed list of files (``Signature.xml``) is the one ``TBS_Sign``
    binds, every file in it has its SM3 ``CheckValue``, and no file is outside it."""
    return _judge(CheckName.OFD_REFERENCES, evidence, _REFERENCES)


def ofd_signature(evidence: Evidence, _ctx: Context) -> Check:
    """``ofd.signature``: SM3-with-SM2 over ``TBS_Sign``, by the key of the certificate in
    ``SignedValue.dat``."""
    return _judge(CheckName.OFD_SIGNATURE, evidence, _SIGNATURE)


def _organisation(cert: asn1_x509.Certificate) -> str | None:
    value = cert.subject.native.get("organization_identifier")
    return str(value) if value else None


def eseal_genuine(evidence: Evidence, _ctx: Context) -> Check:
    """``ofd.eseal``: the ``SES_Seal`` was made (signed) by its seal maker and lists the
    signer's certificate, and that certificate names the issuing department
    (``organizationIdentifier``: the registry id the certificate's claims give)."""
    name = CheckName.OFD_ESEAL
    judged = _judge(name, evidence, _ESEAL)
    if judged.status is not Status.VALID:
        return judged
    seal, subject = evidence.sm2_seal, evidence.subject
    assert seal is not None
    assert seal.signer_certificate is not None
    assert subject is not None
    holder = _organisation(seal.signer_certificate)
    if holder != subject.issuer_id:
        return Check(
            name,
            Status.INVALID,
            ReasonCode.ESEAL_NOT_ISSUERS,
            detail=f"the seal certificate is {holder or 'no organisation'}'s, the certificate "
            f"{subject.issuer_id}'s",
        )
    return Check(name, Status.VALID, data={"seal": seal.seal_name, "organisation": holder})


def _existence(evidence: Evidence, ctx: Context) -> tuple[TimeOfExistence | None, datetime]:
    """The certificate's time of existence (the anchor's block time; an OFD seal carries no
    timestamp) and the moment to judge at: that time, or now without one."""
    anchor = evidence.anchor
    if anchor is None:
        return None, ctx.now
    return TimeOfExistence(anchor.timestamp, "anchor", anchor.block_number), anchor.timestamp


def _when(existence: TimeOfExistence | None, judged_at: datetime) -> dict[str, Any]:
    return {
        "judged_at": judged_at.isoformat(),
        "existence": existence.source if existence else None,
        "existence_time": existence.moment.isoformat() if existence else None,
        "block": existence.block if existence else None,
    }


def sm2_seal_trusted(evidence: Evidence, ctx: Context) -> Check | Found:
    """``seal.trusted``: the signer's and the seal maker's certificates chain to a trusted SM2
    root (``sm2_trust_roots``), every certificate of both paths valid at the time of existence.
    Outside its validity with a time of existence: INVALID; with none: could not check."""
    name = CheckName.SEAL_TRUSTED
    seal = evidence.sm2_seal
    assert seal is not None
    assert seal.signer_certificate is not None
    assert seal.maker_certificate is not None
    existence, judged_at = _existence(evidence, ctx)
    found = evidence.but(existence=existence, seal_validated_at=judged_at)
    if not ctx.sm2_trust:
        return Found(Check(name, Status.ERROR, ReasonCode.TRUST_LIST_MISSING), found)
    when = _when(existence, judged_at)
    for role, cert in (("signer", seal.signer_certificate), ("seal maker", seal.maker_certificate)):
        path = ctx.sm2_trust.path(cert)
        if not path.trusted:
            check = Check(
                name, Status.INVALID, ReasonCode.SEAL_UNTRUSTED, detail=f"{role}: {path.problem}"
            )
            return Found(replace(check, data=when), found)
        stale = path.not_valid_at(judged_at)
        if stale is not None:
            who = f"{role}: {stale.subject.human_friendly}"
            if existence is None:
                detail = f"{who} is not valid now, and nothing proves when the seal was made"
                check = Check(name, Status.ERROR, ReasonCode.NO_PROOF_OF_EXISTENCE, detail=detail)
            else:
                detail = f"{who} was not valid at {judged_at.isoformat()}"
                check = Check(name, Status.INVALID, ReasonCode.SEAL_CERT_EXPIRED, detail=detail)
            return Found(replace(check, data=when), found)
    return Found(Check(name, Status.VALID, data=when), found)


def sm2_key_usage(evidence: Evidence, _ctx: Context) -> Check:
    """``seal.key_usage``: the SM2 signer certificate is one for sealing documents."""
    seal = evidence.sm2_seal
    assert seal is not None
    assert seal.signer_certificate is not None
    if key_usage_fits_sealing(seal.signer_certificate):
        return Check(CheckName.SEAL_KEY_USAGE, Status.VALID)
    return Check(CheckName.SEAL_KEY_USAGE, Status.INVALID, ReasonCode.SEAL_KEY_USAGE)


def eseal_validity(evidence: Evidence, ctx: Context) -> Check:
    """``ofd.eseal_validity``: the seal's ``validStart``…``validEnd`` holds the signing time it
    states and the certificate's time of existence."""
    name = CheckName.OFD_ESEAL_VALIDITY
    seal = evidence.sm2_seal
    assert seal is not None
    start, end = seal.seal_valid_from, seal.seal_valid_until
    assert start is not None
    assert end is not None
    existence, judged_at = _existence(evidence, ctx)
    data = _when(existence, judged_at) | {
        "valid_from": start.isoformat(),
        "valid_until": end.isoformat(),
    }
    signing = [p for p in _problems(evidence) if p.reason is R.SEAL_NOT_VALID_AT_SIGNING]
    if signing:
        return Check(
            name, Status.INVALID, ReasonCode.ESEAL_NOT_VALID, detail=signing[0].message, data=data
        )
    if start <= judged_at <= end:
        return Check(name, Status.VALID, data=data)
    if existence is None:
        return Check(
            name,
            Status.ERROR,
            ReasonCode.NO_PROOF_OF_EXISTENCE,
            detail="the e-seal is not valid now, and nothing proves when it was used",
            data=data,
        )
    return Check(
        name,
        Status.INVALID,
        ReasonCode.ESEAL_NOT_VALID,
        detail=f"recorded {judged_at.isoformat()}, the seal valid {start.isoformat()} to "
        f"{end.isoformat()}",
        data=data,
    )


def ofd_seal_registered(_evidence: Evidence, _ctx: Context) -> Check:
    """``seal.registered`` does not apply: the registry lists the PAdES seal certificate."""
    return not_applicable(
        CheckName.SEAL_REGISTERED,
        "the registry lists the department's PAdES (ECDSA) seal certificate only; this SM2 "
        "seal is vouched for by its SM2 CA (seal.trusted), its seal maker (ofd.eseal) and the "
        "anchored digest of this exact file (anchor.included)",
    )


def ofd_seal_standing(evidence: Evidence, ctx: Context) -> Check:
    """``seal.status`` of the department's registered seal at the anchor's block (as for a QR
    code): a certificate anchored after its department's seal was revoked, or its CA
    distrusted, is invalid whichever of its documents is presented."""
    check = seal_standing(evidence, ctx)
    return replace(check, data={**check.data, "judged": "the department's registered seal"})
