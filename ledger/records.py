"""What the registry holds, as immutable Python records (one shape for chain, index and bundle)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ledger.codes import RevocationReason

__all__ = [
    "Anchor",
    "AuthorityProposal",
    "CaDistrust",
    "Issuer",
    "IssuerStatus",
    "Province",
    "Revocation",
    "SealCertificate",
    "SealRevocation",
    "TxResult",
]


class IssuerStatus(StrEnum):
    """Issuer lifecycle as the contract stores it."""

    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


@dataclass(frozen=True, slots=True)
class Province:
    """A consortium member."""

    code: str
    """Province code, e.g. ``ZJ``."""
    name: str
    """Display name, e.g. ``浙江省``."""
    authority: str
    """Checksummed account that manages the province's issuers and agreements."""
    admitted_at_block: int
    """Block in which the consortium admitted the province."""


@dataclass(frozen=True, slots=True)
class AuthorityProposal:
    """The consortium admin's pending proposal to replace a province's authority."""

    province: str
    """Code of the province whose authority would be replaced."""
    account: str
    """The proposed authority (checksummed)."""
    executable_at: datetime
    """From when the admin may carry it out without the province's consent (UTC)."""


@dataclass(frozen=True, slots=True)
class Issuer:
    """An issuing department as registered by its province."""

    issuer_id: str
    """Registry id, e.g. the department's unified social credit code."""
    province: str
    """Code of the registering province."""
    name: str
    """Display name."""
    account: str
    """Current chain account (checksummed)."""
    status: IssuerStatus
    """Whether it may anchor now."""
    seal_cert_fingerprint: bytes
    """SHA-256 of the current seal certificate (DER)."""
    registered_at_block: int
    """Block of registration."""
    cert_types: tuple[str, ...] = ()
    """Certificate types it may issue now (sorted)."""


@dataclass(frozen=True, slots=True)
class SealCertificate:
    """A seal certificate fingerprint on record and the blocks in which it was current."""

    fingerprint: bytes
    """SHA-256 of the seal certificate (DER)."""
    issuer_id: str
    """The department it belongs to."""
    ca_fingerprint: bytes
    """SHA-256 of the province CA certificate (DER) that issued it: what a verifier holding only
    a QR code checks against CA distrusts."""
    from_block: int
    """Block of the registration or rotation that made it current."""
    until_block: int | None
    """Block of the rotation that retired it, ``None`` while current."""

    def current_at(self, block: int) -> bool:
        """Whether this was the issuer's seal certificate at ``block``."""
        return self.from_block <= block and (self.until_block is None or block < self.until_block)


@dataclass(frozen=True, slots=True)
class SealRevocation:
    """A seal certificate revoked by its issuer's province from ``effective_from`` on."""

    fingerprint: bytes
    """SHA-256 of the seal certificate (DER)."""
    issuer_id: str
    """The department the seal belongs to."""
    effective_from: datetime
    """Certificates whose anchor block time is at or after this (UTC) are invalid; those
    anchored before stay valid."""
    reason: RevocationReason
    block_number: int
    """Block of the latest declaration (a later one may only move ``effective_from`` earlier)."""
    timestamp: datetime
    """Time of that block (UTC)."""

    def invalidates(self, anchored_at: datetime) -> bool:
        """Whether a certificate anchored at ``anchored_at`` (its time of existence) is invalid."""
        return anchored_at >= self.effective_from


@dataclass(frozen=True, slots=True)
class CaDistrust:
    """A province CA the consortium distrusts from ``effective_from`` on."""

    fingerprint: bytes
    """SHA-256 of the province CA certificate (DER)."""
    province: str
    """The province whose CA it is."""
    effective_from: datetime
    """Certificates sealed under this CA whose anchor block time is at or after this (UTC) are
    invalid; those anchored before stay valid."""
    reason: RevocationReason
    block_number: int
    """Block of the latest declaration (a later one may only move ``effective_from`` earlier)."""
    timestamp: datetime
    """Time of that block (UTC)."""

    def invalidates(self, anchored_at: datetime) -> bool:
        """Whether a certificate anchored at ``anchored_at`` (its time of existence) is invalid."""
        return anchored_at >= self.effective_from


@dataclass(frozen=True, slots=True)
class Anchor:
    """A Merkle root recorded by an issuer (anchors are keyed by issuer and root). Its existence
    proves the issuer was authorised at that block."""

    root: bytes
    issuer_id: str
    cert_type: str
    leaf_count: int
    block_number: int
    timestamp: datetime
    """Block time (UTC)."""


@dataclass(frozen=True, slots=True)
class Revocation:
    """A revocation of a whole batch or of one certificate."""

    reason: RevocationReason
    block_number: int
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class TxResult:
    """A mined, successful transaction."""

    tx_hash: bytes
    block_number: int
    gas_used: int
