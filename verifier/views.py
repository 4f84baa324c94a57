"""Typed views a report carries besides its checks: what the certificate says, and how fresh the
registry data behind the answer was. Frozen values with one JSON shape, which the service's
OpenAPI schema documents field by field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "CertificateView",
    "DataSource",
    "FieldView",
    "FreshnessView",
    "InputKind",
    "PresentationView",
    "SyncHealth",
]


class InputKind(StrEnum):
    PDF = "pdf"
    OFD = "ofd"
    IMAGE = "image"
    QR = "qr"
    ID = "id"
    PRESENTATION = "presentation"


class DataSource(StrEnum):
    INDEX = "index"
    """The local index of the registry, synced from a node."""
    BUNDLE = "bundle"
    """A trust bundle the provinces signed (offline)."""
    NONE = "none"
    """Nothing fresh enough to answer from."""


@dataclass(frozen=True, slots=True)
class FieldView:
    """One field of the certificate, with its labels."""

    key: str
    label_zh: str
    label_en: str
    value: str


@dataclass(frozen=True, slots=True)
class PresentationView:
    """What a holder's presentation says about itself."""

    expires_at: str
    """ISO 8601, UTC."""
    seconds_left: int
    disclosed: tuple[str, ...]
    """Keys of the fields the holder chose to show."""


@dataclass(frozen=True, slots=True)
class CertificateView:
    """What the certificate says (all ``None`` when nothing readable was presented)."""

    issuer_id: str | None = None
    issuer_name: str | None = None
    province: str | None = None
    cert_type: str | None = None
    type_name_zh: str | None = None
    type_name_en: str | None = None
    certificate_id: str | None = None
    valid_from: str | None = None
    """ISO 8601, UTC."""
    valid_until: str | None = None
    """ISO 8601, UTC; ``None``: permanent (or unknown when ``certificate_id`` is ``None``)."""
    fields: tuple[FieldView, ...] = ()
    """The certificate's fields, from a PDF, or the fields a presentation shows."""
    presentation: PresentationView | None = None
    qr: str | None = None
    """The certificate's signed QR payload (to verify it again, e.g. from a report)."""

    @property
    def known(self) -> bool:
        return self.certificate_id is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "issuer_id": self.issuer_id,
            "issuer_name": self.issuer_name,
            "province": self.province,
            "cert_type": self.cert_type,
            "type_name_zh": self.type_name_zh,
            "type_name_en": self.type_name_en,
            "certificate_id": self.certificate_id,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "fields": [
                {"key": f.key, "label_zh": f.label_zh, "label_en": f.label_en, "value": f.value}
                for f in self.fields
            ],
            "presentation": (
                {
                    "expires_at": self.presentation.expires_at,
                    "seconds_left": self.presentation.seconds_left,
                    "disclosed": list(self.presentation.disclosed),
                }
                if self.presentation
                else None
            ),
            "qr": self.qr,
        }


@dataclass(frozen=True, slots=True)
class FreshnessView:
    """How current the registry data behind an answer was."""

    block: int
    """Last block the data includes (``-1``: none)."""
    block_time: str | None
    """That block's time, ISO 8601 UTC."""
    synced_at: str | None
    """When the data was last brought up to date from a node (or the bundle's time)."""
    age_seconds: float | None
    """Seconds since ``synced_at``: what decides whether the data may still answer."""
    node: Literal["up", "down"]
    """Whether the last attempt to reach the node succeeded (informative only)."""
    source: DataSource
    offline: bool
    """Whether the answer came from a trust bundle."""
    disagreement: str | None
    """Why the provinces' nodes disagree (then nothing is answered from the registry)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "block_time": self.block_time,
            "synced_at": self.synced_at,
            "age_seconds": self.age_seconds,
            "node": self.node,
            "source": self.source.value,
            "offline": self.offline,
            "disagreement": self.disagreement,
        }


@dataclass(frozen=True, slots=True)
class SyncHealth:
    """How the syncing of the index is going (for ``/healthz``, ``/metrics`` and logs)."""

    last_success: datetime | None = None
    last_attempt: datetime | None = None
    consecutive_failures: int = 0
    failures_total: int = 0
    last_error: str | None = None
    """Kind and short message of the latest failure (cleared by a success)."""
    reorganisations_total: int = 0
    """Syncs that found indexed blocks gone from the node's chain and undid them."""
    events_undone_total: int = 0
    """Registry events undone by those reorganisations."""

    def to_json(self) -> dict[str, Any]:
        return {
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "last_attempt": self.last_attempt.isoformat() if self.last_attempt else None,
            "consecutive_failures": self.consecutive_failures,
            "failures_total": self.failures_total,
            "last_error": self.last_error,
            "reorganisations_total": self.reorganisations_total,
            "events_undone_total": self.events_undone_total,
        }
