"""The certificate's status: not revoked (neither itself nor its whole batch), and within its
validity period at the time the verification is for."""

from __future__ import annotations

from verifier.context import Context
from verifier.evidence import Evidence
from verifier.names import CheckName
from verifier.reasons import ReasonCode
from verifier.result import Check, Status

__all__ = ["not_revoked", "within_validity"]


def not_revoked(evidence: Evidence, ctx: Context) -> Check:
    name = CheckName.STATUS_NOT_REVOKED
    subject, record, leaf = evidence.subject, evidence.record, evidence.leaf_hash
    assert subject is not None
    assert record is not None
    assert leaf is not None
    batch = ctx.registry.root_revocation(subject.issuer_id, record.root)
    if batch is not None:
        return Check(
            name,
            Status.INVALID,
            ReasonCode.BATCH_REVOKED,
            data={"reason": batch.reason.name, "at": batch.timestamp.isoformat()},
        )
    one = ctx.registry.certificate_revocation(subject.issuer_id, record.root, leaf)
    if one is not None:
        return Check(
            name,
            Status.INVALID,
            ReasonCode.REVOKED,
            data={"reason": one.reason.name, "at": one.timestamp.isoformat()},
        )
    return Check(name, Status.VALID)


def within_validity(evidence: Evidence, ctx: Context) -> Check:
    name = CheckName.STATUS_VALIDITY
    subject = evidence.subject
    assert subject is not None
    if subject.valid_from and ctx.now < subject.valid_from:
        return Check(
            name,
            Status.INVALID,
            ReasonCode.NOT_YET_VALID,
            data={"valid_from": subject.valid_from.isoformat()},
        )
    if subject.valid_until and ctx.now > subject.valid_until:
        return Check(
            name,
            Status.INVALID,
            ReasonCode.EXPIRED,
            data={"valid_until": subject.valid_until.isoformat()},
        )
    return Check(name, Status.VALID)
