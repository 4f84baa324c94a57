"""Verification results as data: a list of checks, each VALID / INVALID / ERROR / SKIPPED with a
stable reason code, and a verdict derived from them (never stored, never a bare boolean).

"Could not check" (node down, proof directory unreachable, trust list missing) is ERROR, which
makes the verdict INDETERMINATE — never VALID by default, never INVALID because we could not look.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from verifier.reasons import ReasonCode, message

__all__ = ["Check", "Status", "Verdict", "VerificationReport", "derive_verdict"]


class Status(StrEnum):
    VALID = "VALID"
    INVALID = "INVALID"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"


class Verdict(StrEnum):
    VALID = "VALID"
    INVALID = "INVALID"
    INDETERMINATE = "INDETERMINATE"


@dataclass(frozen=True, slots=True)
class Check:
    """One check of one certificate."""

    name: str
    """Stable dotted name, e.g. ``seal.intact``."""
    status: Status
    reason: ReasonCode | None = None
    """Required unless VALID; stable once released."""
    detail: str = ""
    """Extra words for people (never parsed)."""
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status in (Status.INVALID, Status.ERROR) and self.reason is None:
            raise ValueError(f"check {self.name} is {self.status} without a reason")

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "reason": self.reason.value if self.reason else None,
            "message": message(self.reason, lang) if self.reason else None,
            "detail": self.detail or None,
            "data": dict(self.data),
        }


def derive_verdict(checks: Sequence[Check]) -> Verdict:
    """VALID only if every check that ran is VALID (and at least one ran); INVALID if any is
    INVALID; otherwise INDETERMINATE."""
    ran = [c for c in checks if c.status is not Status.SKIPPED]
    if any(c.status is Status.INVALID for c in ran):
        return Verdict.INVALID
    if ran and all(c.status is Status.VALID for c in ran):
        return Verdict.VALID
    return Verdict.INDETERMINATE


@dataclass(frozen=True)
class VerificationReport:
    """Everything a verification found."""

    checks: tuple[Check, ...]
    input_kind: str
    """``pdf``, ``image``, ``qr`` or ``id``."""
    certificate: Mapping[str, Any] = field(default_factory=dict)
    """What the certificate says (issuer, type, number, validity and, from a PDF, its fields)."""
    freshness: Mapping[str, Any] = field(default_factory=dict)
    """How current the registry data was (block, time, source)."""
    region: str = ""

    @property
    def verdict(self) -> Verdict:
        return derive_verdict(self.checks)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status in (Status.INVALID, Status.ERROR)]

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "input": self.input_kind,
            "region": self.region,
            "certificate": dict(self.certificate),
            "checks": [c.to_json(lang) for c in self.checks],
            "freshness": dict(self.freshness),
        }
