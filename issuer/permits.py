"""What the registry allows an issuer to do now, as the pipeline asks before accepting records,
and the words for the registry's refusals of an anchor.

Submissions are checked against the registry (issuer active, type allowed) so that a record the
chain would refuse is refused at once, by field, instead of ending in a failed batch. The answer
is kept for a few seconds; with the node unreachable the last answer is used, or, if there is
none, records are accepted (issuing goes on offline and the anchor step reports any refusal).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from ledger.errors import NodeUnavailable, RegistryRefused
from ledger.records import IssuerStatus
from ledger.registry import Registry

__all__ = ["Permit", "RegistryPermits", "refusal_reason"]


@dataclass(frozen=True, slots=True)
class Permit:
    """An issuer as the registry lists it."""

    issuer_id: str
    registered: bool
    """Whether the registry knows the issuer at all."""
    active: bool
    """Whether it may anchor now (not suspended)."""
    cert_types: frozenset[str]
    """Types it may issue now."""


class RegistryPermits:
    """Registry answers per issuer, kept for ``ttl_seconds``."""

    def __init__(self, registry: Registry, *, ttl_seconds: float = 5.0) -> None:
        self._registry = registry
        self._ttl = ttl_seconds
        self._known: dict[str, tuple[float, Permit]] = {}
        self._mutex = threading.Lock()

    def __repr__(self) -> str:
        return f"RegistryPermits({self._registry.address!r})"

    def permit(self, issuer_id: str) -> Permit | None:
        """The issuer's permit, or ``None`` if the node cannot say and nothing is known yet."""
        with self._mutex:
            known = self._known.get(issuer_id)
        if known is not None and time.monotonic() - known[0] < self._ttl:
            return known[1]
        try:
            issuer = self._registry.issuer(issuer_id)
        except NodeUnavailable:
            return None if known is None else known[1]
        permit = (
            Permit(issuer_id, False, False, frozenset())
            if issuer is None
            else Permit(
                issuer_id,
                True,
                issuer.status is IssuerStatus.ACTIVE,
                frozenset(issuer.cert_types),
            )
        )
        with self._mutex:
            self._known[issuer_id] = (time.monotonic(), permit)
        return permit


_WORDS = {
    "CertificateRegistryIssuerNotActive": "the registry lists the issuer as suspended",
    "CertificateRegistryCertTypeNotAllowed": "the registry does not allow the issuer this type",
    "CertificateRegistryNotAnIssuer": "the signing account is not an issuer's current account",
    "CertificateRegistryUnknownIssuer": "the registry does not know the issuer",
}


def refusal_reason(refused: RegistryRefused) -> str:
    """A person's words for a refusal, with the contract's error after them."""
    words = _WORDS.get(refused.error)
    return f"{words} ({refused})" if words else f"refused by the registry: {refused}"
