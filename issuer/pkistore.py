"""The PKI on disk under ``<home>/pki``: the national root, one CA and one timestamp authority
per province, and each department's seal certificates (``seal-1``, ``seal-2``… after rotations;
old ones are kept so earlier certificates stay verifiable)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from issuer.crl import RevokedEntry, build_crl, read_revoked, record_revoked
from issuer.keyfiles import load_issued, save_issued
from issuer.pki import Issued, issue_province_ca, issue_root, issue_seal, issue_tsa
from ledger.digest import certificate_fingerprint
from ledger.errors import KeystoreError

__all__ = ["PkiStore"]

_SEAL = re.compile(r"seal-(\d+)\.cert\.pem")


class PkiStore:
    def __init__(self, home: Path, password: str) -> None:
        self.base = home / "pki"
        self._password = password
        self._signers: dict[str | None, Issued] = {}

    def __repr__(self) -> str:
        return f"PkiStore({str(self.base)!r})"

    # ------------------------------------------------------------------ create

    def init_root(self) -> Issued:
        if (self.base / "root.cert.pem").exists():
            return self.root()
        root = issue_root()
        save_issued(root, self.base, "root", self._password)
        return root

    def add_province(self, code: str, name: str) -> Issued:
        folder = self.base / "provinces" / code
        if (folder / "ca.cert.pem").exists():
            return load_issued(folder, "ca", self._password)
        ca = issue_province_ca(self.root(), code, name)
        save_issued(ca, folder, "ca", self._password)
        save_issued(issue_tsa(ca, province_name=name), folder, "tsa", self._password)
        return ca

    def issue_seal(self, province: str, province_name: str, issuer_id: str, name: str) -> str:
        """Issue a new seal certificate (the first, or a rotation); returns its stem."""
        folder = self.base / "departments" / issuer_id
        stem = f"seal-{len(self.seal_stems(issuer_id)) + 1}"
        seal = issue_seal(
            self.province_ca(province),
            department=name,
            organization_id=issuer_id,
            province_name=province_name,
        )
        save_issued(seal, folder, stem, self._password)
        return stem

    def issue_verifier_seal(self, province: str, province_name: str) -> tuple[Path, Path, Path]:
        """The e-seal a province's verification service seals its reports with (under the
        province CA); returns the certificate, the (encrypted) key and the CA certificate."""
        folder = self.base / "provinces" / province
        if not (folder / "verifier-seal.cert.pem").exists():
            seal = issue_seal(
                self.province_ca(province),
                department=f"{province_name}电子证照核验服务",
                organization_id=f"{province}-VERIFIER",
                province_name=province_name,
            )
            save_issued(seal, folder, "verifier-seal", self._password)
        return (
            folder / "verifier-seal.cert.pem",
            folder / "verifier-seal.key.pem",
            folder / "ca.cert.pem",
        )

    # ------------------------------------------------------------------ read

    def root(self) -> Issued:
        return load_issued(self.base, "root", self._password)

    def root_certificate(self) -> x509.Certificate:
        try:
            return x509.load_pem_x509_certificate((self.base / "root.cert.pem").read_bytes())
        except OSError as exc:
            raise KeystoreError(
                f"no root certificate in {self.base}: run 'make demo' or 'ecert pki init-root'"
            ) from exc

    def province_ca(self, code: str) -> Issued:
        return load_issued(self.base / "provinces" / code, "ca", self._password)

    def province_ca_fingerprint(self, code: str) -> bytes:
        """SHA-256 of the province CA certificate (DER): what the registry records beside each
        seal it issued, and what the consortium names to distrust it. Reads no key."""
        path = self.base / "provinces" / code / "ca.cert.pem"
        try:
            cert = x509.load_pem_x509_certificate(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise KeystoreError(f"no CA certificate for province {code}") from exc
        return certificate_fingerprint(cert.public_bytes(serialization.Encoding.DER))

    def tsa(self, code: str) -> Issued:
        return load_issued(self.base / "provinces" / code, "tsa", self._password)

    def seal_stems(self, issuer_id: str) -> list[str]:
        folder = self.base / "departments" / issuer_id
        found = (
            sorted(
                (
                    int(m.group(1))
                    for p in folder.glob("seal-*.cert.pem")
                    if (m := _SEAL.fullmatch(p.name))
                ),
            )
            if folder.is_dir()
            else []
        )
        return [f"seal-{n}" for n in found]

    def seal(self, issuer_id: str, stem: str | None = None) -> Issued:
        stems = self.seal_stems(issuer_id)
        if not stems:
            raise KeystoreError(f"no seal certificate for {issuer_id}")
        return load_issued(self.base / "departments" / issuer_id, stem or stems[-1], self._password)

    def seal_fingerprint(self, issuer_id: str, stem: str | None = None) -> bytes:
        cert = self.seal(issuer_id, stem).cert
        return certificate_fingerprint(cert.public_bytes(serialization.Encoding.DER))

    # ------------------------------------------------------------------ revocation

    def revoke_seal(
        self, issuer_id: str, province: str, fingerprint: bytes, at: datetime, reason: str
    ) -> int:
        """Put the department's seal certificate with this fingerprint on its province CA's
        CRL (from ``at``); returns its serial number."""
        for stem in self.seal_stems(issuer_id):
            cert = self.seal(issuer_id, stem).cert
            if certificate_fingerprint(cert.public_bytes(serialization.Encoding.DER)) == (
                fingerprint
            ):
                entry = RevokedEntry(cert.serial_number, at, reason)
                record_revoked(self.base / "provinces" / province, entry)
                return cert.serial_number
        raise KeystoreError(f"{issuer_id} has no seal certificate 0x{fingerprint.hex()[:16]}…")

    def revoke_province_ca(self, province: str, at: datetime, reason: str) -> int:
        cert = self.province_ca(province).cert
        record_revoked(self.base, RevokedEntry(cert.serial_number, at, reason))
        return cert.serial_number

    def crl(self, province: str | None = None) -> bytes:
        """The current CRL of a province CA, or of the root (``None``). The CA's key is
        decrypted once per store; the list is read afresh every time."""
        signer = self._signers.get(province)
        if signer is None:
            signer = self.root() if province is None else self.province_ca(province)
            self._signers[province] = signer
        folder = self.base if province is None else self.base / "provinces" / province
        return build_crl(signer, read_revoked(folder))

    def export_roots(self, out: Path) -> Path:
        """Write the root certificate(s) as PEM for banks and PDF readers to install."""
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(self.root_certificate().public_bytes(serialization.Encoding.PEM))
        return out
