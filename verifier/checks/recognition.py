"""Cross-province recognition (跨省互认): the verifier's province accepts this type of
certificate from the issuing province (a province always accepts its own)."""

from __future__ import annotations

from verifier.context import Context
from verifier.evidence import Evidence
from verifier.names import CheckName
from verifier.reasons import ReasonCode
from verifier.result import Check, Status

__all__ = ["recognised_here"]


def recognised_here(evidence: Evidence, ctx: Context) -> Check:
    name = CheckName.RECOGNITION
    subject, issuer = evidence.subject, evidence.issuer
    assert subject is not None
    assert issuer is not None
    assert subject.cert_type is not None
    issuing, cert_type = issuer.province, subject.cert_type
    here, there = ctx.registry.province(ctx.region), ctx.registry.province(issuing)
    data = {
        "verifying": ctx.region,
        "issuing": issuing,
        "cert_type": cert_type,
        "verifying_name": here.name if here else ctx.region,
        "issuing_name": there.name if there else issuing,
    }
    if ctx.registry.is_recognised(ctx.region, issuing, cert_type):
        return Check(name, Status.VALID, data=data)
    return Check(
        name,
        Status.INVALID,
        ReasonCode.NOT_RECOGNISED,
        detail=f"{ctx.region} has no agreement for {cert_type} from {issuing}",
        data=data,
    )
