"""The seal's standing on the registry at the certificate's time of existence: its seal
certificate not revoked by its province, and the province CA behind it not distrusted by the
consortium, *before* the certificate existed (revocations carry the time from which they take
effect, e.g. when a key was compromised). The same answer from a PDF (the seal it carries) and
from a QR code, a number or a presentation (the seal the registry lists for the issuer at the
anchor's block), so PDF and QR never disagree about a certificate."""

from __future__ import annotations

from typing import Any

from ledger.digest import certificate_fingerprint
from verifier.context import Context
from verifier.evidence import Evidence
from verifier.names import CheckName
from verifier.reasons import ReasonCode
from verifier.result import Check, Status
from verifier.unavailable import not_applicable

__all__ = ["seal_standing"]


def _issuing_ca(evidence: Evidence) -> bytes | None:
    """Fingerprint of the CA certificate that issued the seal, from the seal's own chain."""
    if evidence.seal_cert is None or evidence.reader is None:
        return None
    embedded = evidence.reader.embedded_signatures[0].signed_data["certificates"]
    for choice in embedded or []:
        if choice.name == "certificate" and choice.chosen.subject == evidence.seal_cert.issuer:
            return certificate_fingerprint(choice.chosen.dump())
    return None


def seal_standing(evidence: Evidence, ctx: Context) -> Check:
    name = CheckName.SEAL_STATUS
    subject, anchor = evidence.subject, evidence.anchor
    assert subject is not None
    assert anchor is not None
    existed = evidence.existence.moment if evidence.existence else anchor.timestamp
    if evidence.seal_cert is not None:
        record = ctx.registry.seal_certificate(certificate_fingerprint(evidence.seal_cert.dump()))
    else:
        record = ctx.registry.seal_certificate_at(subject.issuer_id, anchor.block_number)
    if record is None or record.issuer_id != subject.issuer_id:
        return not_applicable(name, "the seal is not on record for the issuer (seal.registered)")
    data: dict[str, Any] = {
        "seal": record.fingerprint.hex(),
        "ca": record.ca_fingerprint.hex(),
        "existed_at": existed.isoformat(),
    }
    revoked = ctx.registry.seal_revocation(record.fingerprint)
    if revoked is not None:
        data |= {
            "seal_revoked_from": revoked.effective_from.isoformat(),
            "reason": revoked.reason.name,
        }
        if revoked.invalidates(existed):
            return Check(name, Status.INVALID, ReasonCode.SEAL_REVOKED, data=data)
    for ca in {record.ca_fingerprint, _issuing_ca(evidence)} - {None}:
        assert ca is not None
        distrusted = ctx.registry.ca_distrust(ca)
        if distrusted is None:
            continue
        data |= {"ca_distrusted_from": distrusted.effective_from.isoformat()}
        if distrusted.invalidates(existed):
            data |= {"reason": distrusted.reason.name}
            return Check(name, Status.INVALID, ReasonCode.CA_DISTRUSTED, data=data)
    return Check(name, Status.VALID, data=data)
