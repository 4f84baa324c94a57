"""The SM2 trust list (``sm2_trust_roots`` in ``verifier.json``, ``ecert trust roots --sm2``)
and the SM2 certificate paths judged against it at a moment — the certificate's time of
existence, as PAdES seals are judged.

An OFD e-seal carries the signer's and the seal maker's certificates but no chain (GB/T 38540
has no place for one), so the list holds the SM2 roots and the province SM2 CAs. A root is a
self-signed certificate whose SM2 signature verifies; a CA of the list is used only if it
chains to a root (checked once, when the list is loaded). A path's every link is an SM3-with-
SM2 signature by a CA certificate (basic constraints CA, key usage keyCertSign when present),
and every certificate of it must be valid at the moment. pyHanko's validator, which the PAdES
path uses, has no SM2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509

from ledger import sm2

__all__ = ["Sm2Path", "Sm2TrustList"]

_MAX_DEPTH = 6


def _is_ca(cert: x509.Certificate) -> bool:
    constraints = cert.basic_constraints_value
    if constraints is None or not constraints["ca"].native:
        return False
    usage = cert.key_usage_value
    return usage is None or "key_cert_sign" in usage.native


def _valid_at(cert: x509.Certificate, moment: datetime) -> bool:
    validity = cert["tbs_certificate"]["validity"]
    return bool(validity["not_before"].native <= moment <= validity["not_after"].native)


@dataclass(frozen=True, slots=True)
class Sm2Path:
    """How far a certificate's path to a trusted SM2 root goes, and what stops it."""

    certificates: tuple[x509.Certificate, ...]
    """The certificate, then each issuer up to the root (as far as it was found)."""
    trusted: bool
    """It ends at a trusted root, every link's signature verifies."""
    problem: str = ""
    """Why it is not trusted (empty when trusted)."""

    def not_valid_at(self, moment: datetime) -> x509.Certificate | None:
        """The first certificate of the path that was not valid at ``moment``."""
        return next((c for c in self.certificates if not _valid_at(c, moment)), None)


class Sm2TrustList:
    """SM2 roots and the CAs under them, loaded once and shared by every verification."""

    def __init__(self, certificates: Sequence[x509.Certificate]) -> None:
        # Reloaded from DER: a certificate built in memory re-encodes itself on every dump().
        certificates = [x509.Certificate.load(c.dump()) for c in certificates]
        for cert in certificates:  # asn1crypto parses lazily, not thread-safely: parse now
            _ = (cert.native, cert.subject, cert.issuer, cert.basic_constraints_value)
        self.roots = tuple(
            c for c in certificates if c.subject == c.issuer and sm2.verify_certificate(c, c)
        )
        cas: list[x509.Certificate] = []
        pending = [c for c in certificates if c.subject != c.issuer and _is_ca(c)]
        known = list(self.roots)
        while True:  # a CA is usable once its issuer is (roots first, then CAs under them)
            joined = [c for c in pending if any(self._signed_by(c, k) for k in known)]
            if not joined:
                break
            cas += joined
            known += joined
            pending = [c for c in pending if c not in joined]
        self.cas = tuple(cas)

    def __bool__(self) -> bool:
        return bool(self.roots)

    def __repr__(self) -> str:
        return f"Sm2TrustList({len(self.roots)} roots, {len(self.cas)} CAs)"

    @staticmethod
    def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
        return (
            cert.issuer == issuer.subject
            and _is_ca(issuer)
            and sm2.verify_certificate(cert, issuer)
        )

    def path(self, cert: x509.Certificate) -> Sm2Path:
        """``cert``'s path to a root of this list."""
        chain = [cert]
        current = cert
        for _ in range(_MAX_DEPTH):
            if any(current is root for root in self.roots):  # reached through a signed link
                return Sm2Path(tuple(chain), trusted=True)
            issuer = next(
                (c for c in (*self.cas, *self.roots) if self._signed_by(current, c)), None
            )
            if issuer is None:
                who = current.subject.human_friendly
                return Sm2Path(
                    tuple(chain), trusted=False, problem=f"no trusted SM2 CA issued {who}"
                )
            chain.append(issuer)
            current = issuer
        return Sm2Path(tuple(chain), trusted=False, problem="the SM2 path is too long")
