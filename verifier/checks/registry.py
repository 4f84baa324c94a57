"""The registry: the issuer is a registered department, the certificate's leaf (these exact
bytes, claims and validity) is in a root that issuer anchored for that type, and the seal
certificate was the one the registry listed for the issuer when the root was anchored."""

from __future__ import annotations

from ledger.digest import certificate_fingerprint
from ledger.leaf import CertificateLeaf, hash_encoded_leaf
from ledger.merkle import verify_proof
from ledger.proofrecord import ProofRecord
from ledger.records import Issuer, IssuerStatus
from verifier.context import Context
from verifier.evidence import Evidence, Subject
from verifier.names import CheckName
from verifier.reasons import ReasonCode
from verifier.result import Check, Status
from verifier.runner import Found
from verifier.unavailable import not_applicable, unless_registry_usable

__all__ = ["anchor_included", "anchor_issuer", "seal_registered"]

INCLUDED = CheckName.ANCHOR_INCLUDED


def anchor_issuer(evidence: Evidence, ctx: Context) -> Check | Found:
    name = CheckName.ANCHOR_ISSUER
    subject = evidence.subject
    assert subject is not None
    unusable = unless_registry_usable(name, ctx)
    if unusable is not None:
        return unusable
    issuer = ctx.registry.issuer(subject.issuer_id)
    if issuer is None:
        return Check(name, Status.INVALID, ReasonCode.ISSUER_UNKNOWN, detail=subject.issuer_id)
    province = ctx.registry.province(issuer.province)
    check = Check(
        name,
        Status.VALID,
        data={
            "issuer": issuer.name,
            "province": issuer.province,
            "province_name": province.name if province else issuer.province,
            "status_now": issuer.status.value,
        },
    )
    return Found(check, evidence.but(issuer=issuer))


def _leaf_of(subject: Subject, record: ProofRecord) -> tuple[bytes, str]:
    """The leaf hash of what was presented, and why it differs from the record (or ""). A
    version-3 leaf binds a PDF and an OFD: the presented file's digest is computed, the other
    document's is the record's (which the Merkle proof and the anchor then vouch for)."""
    digest = subject.digest_for(record.leaf_version) or record.document_digest
    ofd = record.ofd_digest
    if subject.ofd_digest is not None:
        if ofd is None:
            return b"", "this certificate was recorded without an OFD: this file is not it"
        ofd = subject.ofd_digest
    ours = CertificateLeaf(
        issuer_id=subject.issuer_id,
        cert_type=subject.cert_type or "",
        certificate_id=subject.certificate_id,
        claims_commitment=subject.claims_commitment or b"\0" * 32,
        document_digest=digest,
        valid_from=subject.valid_from or record.valid_from,
        valid_until=subject.valid_until,
        version=record.leaf_version,
        ofd_digest=ofd,
    )
    theirs = record.leaf()
    if ours == theirs:  # the usual case: one encoding, not two
        return hash_encoded_leaf(theirs.encoded()), ""
    encoded = ours.encoded()
    leaf_hash = hash_encoded_leaf(encoded)
    if encoded == theirs.encoded():  # equal once encoded (times in whole seconds)
        return leaf_hash, ""
    if digest != record.document_digest or ofd != record.ofd_digest:
        return leaf_hash, "this file is not the one that was anchored (its digest differs)"
    return leaf_hash, "the certificate's data differs from what was anchored"


def _why_not_anchored(subject: Subject, issuer: Issuer) -> Check:
    if issuer.status is not IssuerStatus.ACTIVE:
        return Check(
            INCLUDED,
            Status.INVALID,
            ReasonCode.ISSUER_SUSPENDED,
            detail="the issuer is suspended and its certificate was never anchored",
        )
    if subject.cert_type and subject.cert_type not in issuer.cert_types:
        return Check(
            INCLUDED,
            Status.INVALID,
            ReasonCode.TYPE_NOT_AUTHORISED,
            detail=f"{subject.issuer_id} may not issue {subject.cert_type}",
        )
    return Check(INCLUDED, Status.INVALID, ReasonCode.NOT_ANCHORED)


def anchor_included(evidence: Evidence, ctx: Context) -> Check | Found:
    subject, issuer = evidence.subject, evidence.issuer
    assert subject is not None
    assert issuer is not None
    record = evidence.record or ctx.proofs.fetch(
        issuer.province, subject.issuer_id, subject.certificate_id, local_only=ctx.local_only
    )
    if record is None:
        return _why_not_anchored(subject, issuer)
    subject = subject.completed_by(record)
    leaf_hash, mismatch = _leaf_of(subject, record)
    if mismatch:
        return Check(INCLUDED, Status.INVALID, ReasonCode.NOT_ANCHORED, detail=mismatch)
    if not verify_proof(record.root, leaf_hash, record.siblings):
        return Check(INCLUDED, Status.INVALID, ReasonCode.PROOF_INVALID)
    anchor = ctx.registry.anchor_of(subject.issuer_id, record.root, local_only=ctx.local_only)
    if anchor is None:
        return Check(
            INCLUDED,
            Status.INVALID,
            ReasonCode.NOT_ANCHORED,
            detail="the proof's root is not on the ledger",
        )
    if anchor.issuer_id != subject.issuer_id or anchor.cert_type != subject.cert_type:
        return Check(INCLUDED, Status.INVALID, ReasonCode.ANCHOR_MISMATCH)
    check = Check(
        INCLUDED,
        Status.VALID,
        data={
            "root": record.root.hex(),
            "block": anchor.block_number,
            "anchored_at": anchor.timestamp.isoformat(),
        },
    )
    found = evidence.but(subject=subject, record=record, leaf_hash=leaf_hash, anchor=anchor)
    return Found(check, found)


def seal_registered(evidence: Evidence, ctx: Context) -> Check:
    name = CheckName.SEAL_REGISTERED
    if evidence.seal_cert is None:
        return not_applicable(name, "no seal to compare: no document was presented")
    subject, anchor = evidence.subject, evidence.anchor
    assert subject is not None
    assert anchor is not None
    seal = ctx.registry.seal_certificate(certificate_fingerprint(evidence.seal_cert.dump()))
    if seal is None or seal.issuer_id != subject.issuer_id:
        return Check(name, Status.INVALID, ReasonCode.SEAL_NOT_REGISTERED)
    if not seal.current_at(anchor.block_number):
        return Check(
            name,
            Status.INVALID,
            ReasonCode.SEAL_NOT_REGISTERED,
            detail="the seal certificate was not the issuer's when anchored",
        )
    return Check(name, Status.VALID)
