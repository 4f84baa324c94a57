"""A record to issue and what became of it at submission, and the checks a record passes before
it is stored: its claims against the catalogue (``ledger.catalogue.validate``), its validity
period, its holder key, its reference, and whether the registry lets the issuer issue its type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from issuer.permits import Permit
from ledger.catalogue import ClaimsInvalid, FieldError, catalogue, hidden_character, validate
from ledger.holderkey import HolderKeyError, certificate_holder_address, check_holder_key
from ledger.presentation import HOLDER_CLAIM

__all__ = ["Submission", "SubmitResult", "checked_claims", "unknown_type", "with_holder"]


@dataclass(frozen=True)
class Submission:
    """One record to issue."""

    reference: str
    """Caller's idempotency key (e.g. its case number); unique per issuer."""
    cert_type: str
    record: Mapping[str, object]
    valid_until: date | None = None
    holder_key: str | None = None
    """The holder key (``ecert wallet new``: a compressed public key), from which the
    certificate's own holder account is derived and committed as the ``holder_key`` claim
    (``ledger.holderkey``) so the holder can later present chosen fields; no personal data. A
    bare account address is committed as it is."""


@dataclass(frozen=True)
class SubmitResult:
    reference: str
    certificate_id: str | None
    status: str | None
    errors: list[FieldError] = field(default_factory=list)
    duplicate: bool = False

    @property
    def accepted(self) -> bool:
        return self.certificate_id is not None


def unknown_type(cert_type: str) -> str:
    """The refusal of a certificate type the catalogue does not have, naming the ones it has."""
    return f"unknown certificate type {cert_type!r} (known: {', '.join(catalogue())})"


def _validity_errors(sub: Submission) -> list[FieldError]:
    spec = catalogue()[sub.cert_type]
    if sub.valid_until is not None and spec.validity == "none":
        return [FieldError("valid_until", "this type does not expire")]
    if sub.valid_until is None and spec.validity == "required":
        return [FieldError("valid_until", "is required")]
    if sub.valid_until is not None and sub.valid_until <= datetime.now(UTC).date():
        return [FieldError("valid_until", "must be in the future")]
    return []


def checked_claims(sub: Submission, permit: Permit | None) -> dict[str, str]:
    """The claims to store for ``sub`` (without the holder claim: its value depends on the
    certificate's claims secret, ``holder_claim``); raises ``ClaimsInvalid`` naming what is
    wrong. ``permit`` is the registry's word on the issuer (``None``: unknown,
    the node is down)."""
    if sub.cert_type not in catalogue():
        raise ClaimsInvalid(sub.cert_type, [FieldError("cert_type", unknown_type(sub.cert_type))])
    if permit is not None and sub.cert_type not in permit.cert_types:
        raise ClaimsInvalid(
            sub.cert_type,
            [
                FieldError(
                    "cert_type",
                    f"the registry does not allow {permit.issuer_id} to issue {sub.cert_type}",
                )
            ],
        )
    if hidden := hidden_character(sub.reference):
        raise ClaimsInvalid(sub.cert_type, [FieldError("reference", hidden)])
    claims = validate(sub.cert_type, sub.record)
    if errors := _validity_errors(sub):
        raise ClaimsInvalid(sub.cert_type, errors)
    if sub.holder_key:
        try:
            check_holder_key(sub.holder_key)
        except HolderKeyError as exc:
            raise ClaimsInvalid(sub.cert_type, [FieldError(HOLDER_CLAIM, str(exc))]) from exc
    return claims


def with_holder(claims: dict[str, str], sub: Submission, claims_secret: bytes) -> dict[str, str]:
    """``claims`` with the holder claim, once the certificate's claims secret is drawn: the
    certificate's own account derived from the holder key (checked by ``checked_claims``)."""
    if not sub.holder_key:
        return claims
    return {**claims, HOLDER_CLAIM: certificate_holder_address(sub.holder_key, claims_secret)}
