"""Verification results as data: a list of checks, each VALID / INVALID / ERROR / SKIPPED with a
stable reason code, and a verdict derived from them (never stored, never a bare boolean).

"Could not check" (node down, proof directory unreachable, trust list missing, a library that
failed) is ERROR, which makes the verdict INDETERMINATE — never VALID by default, never INVALID
because we could not look. SKIPPED is a check that did not apply, or whose prerequisite did not
pass (named in ``data["needs"]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from verifier.names import CheckName
from verifier.reasons import ReasonCode, message
from verifier.views import CertificateView, FreshnessView, InputKind

__all__ = ["Check", "Status", "Verdict", "VerificationReport", "derive_verdict"]


class Status(StrEnum):
    VALID = "VALID"
    INVALID = "INVALID"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"


class Verdict(StrEnum):
    VALID = "VALID"
    """Genuine, current, and recognised by this verifier's province."""
    NOT_RECOGNISED = "NOT_RECOGNISED"
    """Genuine and current — every check passed — but this province has no recognition
    agreement for it (跨省互认): not a forgery, and not accepted here."""
    INVALID = "INVALID"
    INDETERMINATE = "INDETERMINATE"


@dataclass(frozen=True, slots=True)
class Check:
    """One check of one certificate."""

    name: CheckName
    """Stable dotted name, e.g. ``seal.intact``."""
    status: Status
    reason: ReasonCode | None = None
    """Required unless VALID; stable once released."""
    detail: str = ""
    """Extra words for people (never parsed)."""
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status is not Status.VALID and self.reason is None:
            raise ValueError(f"check {self.name} is {self.status} without a reason")

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        return {
            "name": self.name.value,
            "status": self.status.value,
            "reason": self.reason.value if self.reason else None,
            "message": message(self.reason, lang) if self.reason else None,
            "detail": self.detail or None,
            "data": dict(self.data),
        }


def derive_verdict(checks: Sequence[Check]) -> Verdict:
    """INVALID if any check is INVALID (but for recognition alone); INDETERMINATE if any could
    not be made; NOT_RECOGNISED if recognition alone failed; VALID if every check that ran is
    VALID (and at least one ran)."""
    ran = [c for c in checks if c.status is not Status.SKIPPED]
    invalid = [c for c in ran if c.status is Status.INVALID]
    if any(c.reason is not ReasonCode.NOT_RECOGNISED for c in invalid):
        return Verdict.INVALID
    if not ran or any(c.status is Status.ERROR for c in ran):
        return Verdict.INDETERMINATE
    if invalid:
        return Verdict.NOT_RECOGNISED
    return Verdict.VALID


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """Everything a verification found."""

    checks: tuple[Check, ...]
    """Always the same names, in the same order, for one input kind."""
    input_kind: InputKind
    certificate: CertificateView
    freshness: FreshnessView
    region: str = ""

    @property
    def verdict(self) -> Verdict:
        return derive_verdict(self.checks)

    def check(self, name: CheckName) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status in (Status.INVALID, Status.ERROR)]

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "input": self.input_kind.value,
            "region": self.region,
            "certificate": self.certificate.to_json(),
            "checks": [c.to_json(lang) for c in self.checks],
            "freshness": self.freshness.to_json(),
        }
