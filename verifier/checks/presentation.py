"""A holder's presentation: readable, not expired (and not valid for longer than a verifier
accepts), every shown field in the certificate's claims commitment, signed by the holder key
committed at issuance, and its verifier nonce (if any) used once."""

from __future__ import annotations

from ledger.presentation import HOLDER_CLAIM, Presentation, PresentationError
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
    except PresentationError as exc:
        return Check(name, Status.INVALID, ReasonCode.PRESENTATION_MALFORMED, detail=str(exc))
    found = evidence.but(
        presentation=shown,
        record=shown.record,
        subject=Subject.from_record(shown.record),
    )
    return Found(Check(name, Status.VALID), found)


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


def _foreign(shown: Presentation) -> list[str]:
    return [c.key for c in shown.claims if not c.verify(shown.record.claims_commitment)]


def presentation_claims(evidence: Evidence, _ctx: Context) -> Check:
    name = CheckName.PRESENTATION_CLAIMS
    foreign = _foreign(_shown(evidence))
    if foreign:
        return Check(
            name, Status.INVALID, ReasonCode.CLAIM_NOT_IN_CERTIFICATE, detail=", ".join(foreign)
        )
    return Check(name, Status.VALID)


def presentation_holder(evidence: Evidence, _ctx: Context) -> Check:
    name = CheckName.PRESENTATION_HOLDER
    shown = _shown(evidence)
    holder = shown.holder_claim()
    if holder is None:
        return Check(name, Status.INVALID, ReasonCode.HOLDER_NOT_BOUND)
    try:
        signer = shown.signer()
    except PresentationError as exc:
        return Check(name, Status.INVALID, ReasonCode.HOLDER_MISMATCH, detail=str(exc))
    if HOLDER_CLAIM in _foreign(shown) or signer != holder.value:
        return Check(name, Status.INVALID, ReasonCode.HOLDER_MISMATCH, detail=f"signed by {signer}")
    return Check(name, Status.VALID, data={"holder": signer})


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
