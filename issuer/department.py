"""An issuing department as the pipeline sees it: its registry identity, its chain account, its
PAdES e-seal and, when it has one, its SM2 e-seal for OFD certificates."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from issuer.formats import BOTH, PDF_ONLY, Format
from issuer.ofd import OfdSealer
from issuer.seal import Sealer

__all__ = ["Department"]


@dataclass(frozen=True)
class Department:
    issuer_id: str
    name: str
    province_code: str
    province_name: str
    account: LocalAccount
    """Signs QR payloads and anchor transactions."""
    sealer: Sealer
    verifier_base: str
    """Base URL of the verifier page its QR codes point to, e.g. ``https://zj.ecert.example``."""
    ofd_sealer: OfdSealer | None = None
    """Seals OFD certificates with the department's SM2 seal; ``None``: it has none, and
    issues PDFs only."""

    @property
    def default_formats(self) -> tuple[Format, ...]:
        """Both formats when it has an SM2 seal, else the PDF alone."""
        return BOTH if self.ofd_sealer is not None else PDF_ONLY

    def __repr__(self) -> str:  # never show key material
        return f"Department({self.issuer_id!r}, {self.name!r})"
