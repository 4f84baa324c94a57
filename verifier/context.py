"""What every check may consult besides the evidence: the verifier's province, the registry as
this verifier sees it, where proofs come from, the trusted roots (and the SM2 trust list for OFD
seals), the nonce book and the time.

``RegistryView`` is the registry as checks read it; ``ChainView`` (the index kept fresh from a
node, a trust bundle offline) implements it, and unit tests give checks a fake one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from asn1crypto import x509 as asn1_x509

from ledger.proofrecord import ProofRecord
from ledger.records import (
    Anchor,
    CaDistrust,
    Issuer,
    Province,
    Revocation,
    SealCertificate,
    SealRevocation,
)
from verifier.nonces import NonceState
from verifier.sm2trust import Sm2TrustList
from verifier.views import FreshnessView

__all__ = ["Context", "NonceSource", "ProofSource", "RegistryView"]


class RegistryView(Protocol):
    """Registry facts, read from local data. Reads may raise ``NodeUnavailable`` (could not
    confirm) and, with ``local_only``, ``WouldBlock`` (the node would have to be asked)."""

    @property
    def disagreement(self) -> str | None: ...

    def usable(self) -> bool: ...

    def freshness(self) -> FreshnessView: ...

    def issuer(self, issuer_id: str) -> Issuer | None: ...

    def province(self, code: str) -> Province | None: ...

    def issuer_accounts(self, issuer_id: str) -> frozenset[str]: ...

    def anchor_of(
        self, issuer_id: str, root: bytes, *, local_only: bool = False
    ) -> Anchor | None: ...

    def seal_certificate(self, fingerprint: bytes) -> SealCertificate | None: ...

    def seal_certificate_at(self, issuer_id: str, block: int) -> SealCertificate | None: ...

    def seal_revocation(self, fingerprint: bytes) -> SealRevocation | None: ...

    def ca_distrust(self, fingerprint: bytes) -> CaDistrust | None: ...

    def root_revocation(self, issuer_id: str, root: bytes) -> Revocation | None: ...

    def certificate_revocation(
        self, issuer_id: str, root: bytes, leaf: bytes
    ) -> Revocation | None: ...

    def is_recognised(self, verifying: str, issuing: str, cert_type: str) -> bool: ...


class ProofSource(Protocol):
    def fetch(
        self, province: str, issuer_id: str, certificate_id: str, *, local_only: bool = False
    ) -> ProofRecord | None: ...


class NonceSource(Protocol):
    def consume(self, nonce: bytes) -> NonceState: ...


@dataclass(frozen=True, slots=True)
class Context:
    region: str
    """The province this verifier answers for."""
    registry: RegistryView
    proofs: ProofSource
    trust_roots: Sequence[asn1_x509.Certificate]
    nonces: NonceSource
    now: datetime
    """The time the verification is for (UTC)."""
    local_only: bool = False
    """Answer only from memory and local files (``WouldBlock`` otherwise): for event loops."""
    max_presentation_ttl: float = 15 * 60.0
    require_nonce: bool = False
    """Presentations must carry a nonce this verifier issued."""
    sm2_trust: Sm2TrustList | None = None
    """The SM2 roots and province CAs OFD seals are judged against (``None``: none)."""
