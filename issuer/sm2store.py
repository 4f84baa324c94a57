"""The SM2 PKI on disk under ``<home>/pki/sm2``, beside the ECDSA one (``issuer.pkistore``):
the SM2 national root, per province a CA and a seal-making certificate, and per department
its SM2 seal certificates with the ``SES_Seal`` made for each (``seal-1.esl``…)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import pem

from issuer.ofd.seal import OfdSealer
from issuer.sesmaker import make_seal
from issuer.sm2keyfile import load_certificate, load_sm2_issued, save_sm2_issued
from issuer.sm2pki import (
    Sm2Issued,
    issue_sm2_province_ca,
    issue_sm2_root,
    issue_sm2_seal,
    issue_sm2_seal_maker,
)
from ledger import ses
from ledger.errors import KeystoreError

__all__ = ["Sm2PkiStore"]

_SEAL = re.compile(r"seal-(\d+)\.cert\.pem")


class Sm2PkiStore:
    def __init__(self, home: Path, password: str) -> None:
        self.base = home / "pki" / "sm2"
        self._password = password

    def __repr__(self) -> str:
        return f"Sm2PkiStore({str(self.base)!r})"

    def init_root(self) -> Sm2Issued:
        if (self.base / "root.cert.pem").exists():
            return self.root()
        root = issue_sm2_root()
        save_sm2_issued(root, self.base, "root", self._password)
        return root

    def add_province(self, code: str, name: str) -> Sm2Issued:
        folder = self.base / "provinces" / code
        if (folder / "ca.cert.pem").exists():
            return load_sm2_issued(folder, "ca", self._password)
        ca = issue_sm2_province_ca(self.root(), code, name)
        save_sm2_issued(ca, folder, "ca", self._password)
        save_sm2_issued(issue_sm2_seal_maker(ca, name), folder, "seal-maker", self._password)
        return ca

    def issue_seal(self, province: str, province_name: str, issuer_id: str, name: str) -> str:
        """A new SM2 seal certificate and the ``SES_Seal`` made for it; returns its stem."""
        folder = self.base / "departments" / issuer_id
        stem = f"seal-{len(self.seal_stems(issuer_id)) + 1}"
        ca = load_sm2_issued(self.base / "provinces" / province, "ca", self._password)
        maker = load_sm2_issued(self.base / "provinces" / province, "seal-maker", self._password)
        signer = issue_sm2_seal(
            ca, department=name, organization_id=issuer_id, province_name=province_name
        )
        validity = signer.cert["tbs_certificate"]["validity"]
        seal = make_seal(
            maker,
            signer,
            es_id=f"{issuer_id}-{stem}",
            name=name,
            valid_start=max(validity["not_before"].native, datetime.now(UTC)),
            valid_end=validity["not_after"].native,
        )
        save_sm2_issued(signer, folder, stem, self._password)
        (folder / f"{stem}.esl").write_bytes(seal.dump())
        return stem

    def root(self) -> Sm2Issued:
        return load_sm2_issued(self.base, "root", self._password)

    def seal_stems(self, issuer_id: str) -> list[str]:
        folder = self.base / "departments" / issuer_id
        if not folder.is_dir():
            return []
        found = sorted(int(m.group(1)) for p in folder.iterdir() if (m := _SEAL.fullmatch(p.name)))
        return [f"seal-{n}" for n in found]

    def sealer(self, issuer_id: str, stem: str | None = None) -> OfdSealer:
        """The department's OFD sealer with its newest (or the named) SM2 seal."""
        stems = self.seal_stems(issuer_id)
        if not stems:
            raise KeystoreError(f"no SM2 seal certificate for {issuer_id}")
        folder = self.base / "departments" / issuer_id
        stem = stem or stems[-1]
        signer = load_sm2_issued(folder, stem, self._password)
        try:
            seal = ses.SesSeal.load((folder / f"{stem}.esl").read_bytes())
        except (OSError, ValueError) as exc:
            raise KeystoreError(f"cannot read the seal {stem}.esl of {issuer_id}") from exc
        return OfdSealer(signer, seal)

    def export_roots(self, out: Path) -> Path:
        """Write the SM2 trust list as PEM for verifiers to install (``sm2_trust_roots``): the
        SM2 root, then every province's SM2 CA. An OFD seal carries only the signer's and the
        seal maker's certificates (GB/T 38540 has no place for a chain), so a verifier needs
        the province CAs beside the root; it trusts a CA only if it chains to the root."""
        certs = [load_certificate(self.base / "root.cert.pem")]
        provinces = self.base / "provinces"
        if provinces.is_dir():
            certs += [
                load_certificate(folder / "ca.cert.pem")
                for folder in sorted(provinces.iterdir())
                if (folder / "ca.cert.pem").is_file()
            ]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(b"".join(pem.armor("CERTIFICATE", c.dump()) for c in certs))
        return out
