"""An issuing department as the pipeline sees it: its registry identity, its chain account and
its e-seal."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

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

    def __repr__(self) -> str:  # never show key material
        return f"Department({self.issuer_id!r}, {self.name!r})"
