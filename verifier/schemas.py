"""The shapes of the verifier API's requests and answers, for validation and for the OpenAPI
schema (``/openapi.json``): check names and reason codes as enums, the certificate and freshness
views field by field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from verifier.names import CheckName
from verifier.reasons import ReasonCode
from verifier.result import Status, Verdict
from verifier.views import CertificateView, FreshnessView, InputKind, SyncHealth

__all__ = ["CheckOut", "HealthOut", "NonceOut", "VerifyAnswer", "VerifyJson"]


class VerifyJson(BaseModel):
    """Verify from the QR text, a holder's presentation, or the issuer id and number."""

    qr_text: str | None = Field(
        default=None, max_length=1000, description="The QR code's text (URL or bare payload)."
    )
    presentation: str | None = Field(
        default=None, max_length=4000, description="A holder's presentation (ECP2.…)."
    )
    issuer_id: str | None = Field(default=None, max_length=32)
    certificate_id: str | None = Field(default=None, max_length=40)


class CheckOut(BaseModel):
    name: CheckName = Field(description="Stable dotted name, e.g. seal.intact")
    status: Status = Field(
        description="VALID; INVALID (evidence against the certificate); ERROR (could not "
        "check); SKIPPED (does not apply, or a check it needs did not pass: data.needs)"
    )
    reason: ReasonCode | None = Field(description="Stable reason code; set unless VALID")
    message: str | None = Field(description="The reason in words (zh or en)")
    detail: str | None
    data: dict[str, Any]


class VerifyAnswer(BaseModel):
    """A verification: the verdict, every check (always the same names for one input kind),
    what the certificate says, and how fresh the registry data was."""

    verdict: Verdict
    input: InputKind
    region: str
    certificate: CertificateView
    checks: list[CheckOut]
    freshness: FreshnessView


class NonceOut(BaseModel):
    nonce: str = Field(description="Hex; put it in the presentation (ecert wallet present).")
    expires_at: float = Field(description="Unix time after which it is refused.")


class HealthOut(BaseModel):
    status: str = Field(description="ok while the service answers")
    region: str
    ledger: FreshnessView
    sync: SyncHealth = Field(description="The background sync of the registry index")
    syncer_alive: bool | None = Field(description="None when no background sync is kept")
    trust_bundle: dict[str, Any] | None
