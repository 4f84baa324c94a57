"""A holder's presentation: readable (in the current layout), not expired (and not valid for
longer than a verifier accepts), signed by the account its holder claim names, every shown field
(and that holder claim) in the certificate's claims, and its verifier nonce (if any) used once.

The claims commitment and the batch root are not carried: the claims check recomputes them
(with the signer's account as the holder claim's value) and hands the registry checks the
proof record they make, so the anchor vouches for the shown fields and the holder alike."""

from __future__ import annotations

from ledger.presentation import Presentation, PresentationError, PresentationOutdated
from verifier.context import Context
from verifier.errors import WouldBlock
from verifier.evidence import Evidence, Subject
from verifier.names import CheckName
from verifier.nonces import NonceState
from verifier.reasons import ReasonCode
from verifier.result import Check, Status
from verifier.runner import Found
from verifier.unavailable import not_applicable

__all__ = [
    "presentation_claims",
    "presentation_fresh",
    "presentation_holder",
    "presentation_nonce",
    "presentation_read",
]


def _shown(evidence: Evidence) -> Presentation:
    assert evidence.presentation is not None
    return evidence.presentation


def presentation_read(evidence: Evidence, _ctx: Context) -> Check | Found:
    name = CheckName.PRESENTATION_READ
    try:
        shown = Presentation.decode(evidence.presentation_text or "")
    except PresentationOutdated as exc:
        return Check(name, Status.INVALID, ReasonCode.PRESENTATION_OUTDATED, detail=str(exc))
    except PresentationError as exc:
        return Check(name, Status.INVALID, ReasonCode.PRESENTATION_MALFORMED, detail=str(exc))
    subject = Subject(
        issuer_id=shown.issuer_id,
        certificate_id=shown.certificate_id,
        cert_type=shown.cert_type,
        valid_from=shown.valid_from,
        valid_until=shown.valid_until,
    )
    return Found(Check(name, Status.VALID), evidence.but(presentation=shown, subject=subject))


def presentation_fresh(evidence: Evidence, ctx: Context) -> Check:
    name = CheckName.PRESENTATION_FRESH
    left = (_shown(evidence).expires_at - ctx.now).total_seconds()
    if left < 0:
        return Check(
            name,
            Status.INVALID,
            ReasonCode.PRESENTATION_EXPIRED,
            detail=f"expired {int(-left)} s ago",
        )
    if left > ctx.max_presentation_ttl:
        return Check(
            name,
            Status.INVALID,
            ReasonCode.PRESENTATION_TOO_LONG,
            detail=f"valid for {int(left)} s; at most {int(ctx.max_presentation_ttl)} s",
        )
    return Check(name, Status.VALID, data={"seconds_left": int(left)})


def presentation_holder(evidence: Evidence, _ctx: Context) -> Check:
    """The signature recovers an account, and it is the one the holder claim names (by its
    first bytes: that the claim holds exactly this account, the claims check then shows)."""
    name = CheckName.PRESENTATION_HOLDER
    shown = _shown(evidence)
    if shown.holder is None:
        return Check(name, Status.INVALID, ReasonCode.HOLDER_NOT_BOUND)
    try:
        signer = shown.signer()
    except PresentationError as exc:
        return Check(name, Status.INVALID, ReasonCode.HOLDER_MISMATCH, detail=str(exc))
    if bytes.fromhex(signer[2:])[: len(shown.holder.check)] != shown.holder.check:
        return Check(name, Status.INVALID, ReasonCode.HOLDER_MISMATCH, detail=f"signed by {signer}")
    return Check(name, Status.VALID, data={"holder": signer})


def presentation_claims(evidence: Evidence, _ctx: Context) -> Check | Found:
    name = CheckName.PRESENTATION_CLAIMS
    shown = _shown(evidence)
    try:
        commitment = shown.claims_commitment()
    except PresentationError as exc:
        return Check(name, Status.INVALID, ReasonCode.CLAIM_NOT_IN_CERTIFICATE, detail=str(exc))
    if commitment[: len(shown.claims_check)] != shown.claims_check:
        return Check(
            name,
            Status.INVALID,
            ReasonCode.CLAIM_NOT_IN_CERTIFICATE,
            detail="the shown fields and holder key do not make the certificate's claims "
            f"commitment: {', '.join(shown.disclosed) or 'the holder key'}",
        )
    try:
        record = shown.record(commitment)
    except PresentationError as exc:
        return Check(name, Status.INVALID, ReasonCode.PRESENTATION_MALFORMED, detail=str(exc))
    found = evidence.but(record=record, subject=Subject.from_record(record))
    return Found(Check(name, Status.VALID), found)


def presentation_nonce(evidence: Evidence, ctx: Context) -> Check:
    """Last in the plan: a run repeated after ``WouldBlock`` must not have used it up. The
    nonce book is SQLite shared by the service's processes: never written on an event loop."""
    name = CheckName.PRESENTATION_NONCE
    shown = _shown(evidence)
    if not shown.nonce:
        if ctx.require_nonce:
            return Check(name, Status.INVALID, ReasonCode.NONCE_REQUIRED)
        return not_applicable(name, "no nonce: only the expiry limits reuse")
    if ctx.local_only:
        raise WouldBlock("the nonce book is written in a worker thread")
    state = ctx.nonces.consume(shown.nonce)
    if state is NonceState.FRESH:
        return Check(name, Status.VALID)
    reason = (
        ReasonCode.PRESENTATION_REPLAYED
        if state is NonceState.REPLAYED
        else ReasonCode.NONCE_UNKNOWN
    )
    return Check(name, Status.INVALID, reason)
