"""What the registry index answers: provinces, issuers, seal certificates, anchors and
revocations, as the contract would (``RegistryIndex`` adds the syncing)."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from ledger.codes import RevocationReason, cert_type_to_bytes
from ledger.index_store import IndexStore, utc
from ledger.records import (
    Anchor,
    CaDistrust,
    Issuer,
    IssuerStatus,
    Province,
    Revocation,
    SealCertificate,
    SealRevocation,
)

__all__ = ["IndexReads"]


def _seal(row: Any) -> SealCertificate:
    return SealCertificate(
        fingerprint=bytes(row[0]),
        issuer_id=row[1],
        ca_fingerprint=bytes(row[2]),
        from_block=row[3],
        until_block=row[4],
    )


class IndexReads(IndexStore):
    """The registry's facts, read from the index file."""

    def province(self, code: str) -> Province | None:
        row = self._one(
            "SELECT code, name, authority, admitted_block FROM provinces WHERE code = ?", (code,)
        )
        return None if row is None else Province(*row)

    def provinces(self) -> list[Province]:
        rows = self._all(
            "SELECT code, name, authority, admitted_block FROM provinces "
            "ORDER BY admitted_block, code"
        )
        return [Province(*row) for row in rows]

    def issuer(self, issuer_id: str) -> Issuer | None:
        row = self._one(
            "SELECT issuer_id, province, name, account, status, seal_fp, registered_block "
            "FROM issuers WHERE issuer_id = ?",
            (issuer_id,),
        )
        if row is None:
            return None
        types = self._all(
            "SELECT cert_type FROM issuer_types WHERE issuer_id = ? ORDER BY 1", (issuer_id,)
        )
        return Issuer(
            issuer_id=row[0],
            province=row[1],
            name=row[2],
            account=row[3],
            status=IssuerStatus(row[4]),
            seal_cert_fingerprint=bytes(row[5]),
            registered_at_block=row[6],
            cert_types=tuple(t[0] for t in types),
        )

    def issuers(self) -> list[Issuer]:
        ids = self._all("SELECT issuer_id FROM issuers ORDER BY registered_block, issuer_id")
        found = (self.issuer(i[0]) for i in ids)
        return [i for i in found if i is not None]

    def issuer_of_account(self, account: str) -> str | None:
        row = self._one(
            "SELECT issuer_id FROM issuers WHERE account = ?", (Web3.to_checksum_address(account),)
        )
        return None if row is None else str(row[0])

    def is_authorised(self, issuer_id: str, cert_type: str) -> bool:
        cert_type_to_bytes(cert_type)  # validates the code
        row = self._one(
            "SELECT 1 FROM issuers i JOIN issuer_types t ON t.issuer_id = i.issuer_id "
            "WHERE i.issuer_id = ? AND t.cert_type = ? AND i.status = ?",
            (issuer_id, cert_type, IssuerStatus.ACTIVE.value),
        )
        return row is not None

    def issuer_history(self, issuer_id: str) -> list[tuple[int, str, str]]:
        """``(block, change, detail)`` for every change to an issuer, oldest first."""
        rows = self._all(
            "SELECT block, change, detail FROM issuer_history WHERE issuer_id = ? "
            "ORDER BY block, log_index",
            (issuer_id,),
        )
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    def seal_certificate(self, fingerprint: bytes) -> SealCertificate | None:
        row = self._one(
            "SELECT fingerprint, issuer_id, ca_fingerprint, from_block, until_block "
            "FROM seal_certs WHERE fingerprint = ?",
            (bytes(fingerprint),),
        )
        return None if row is None else _seal(row)

    def seal_certificate_at(self, issuer_id: str, block: int) -> SealCertificate | None:
        """The seal certificate that was the issuer's at ``block`` (e.g. an anchor's block):
        what a verifier holding only a QR code knows the certificate was sealed with."""
        row = self._one(
            "SELECT fingerprint, issuer_id, ca_fingerprint, from_block, until_block "
            "FROM seal_certs WHERE issuer_id = ? AND from_block <= ? "
            "AND (until_block IS NULL OR ? < until_block) ORDER BY from_block DESC LIMIT 1",
            (issuer_id, block, block),
        )
        return None if row is None else _seal(row)

    def seal_revocation(self, fingerprint: bytes) -> SealRevocation | None:
        row = self._one(
            "SELECT issuer_id, effective_from, reason, block, timestamp FROM seal_revocations "
            "WHERE fingerprint = ?",
            (bytes(fingerprint),),
        )
        if row is None:
            return None
        return SealRevocation(
            fingerprint=bytes(fingerprint),
            issuer_id=row[0],
            effective_from=utc(row[1]),
            reason=RevocationReason(row[2]),
            block_number=row[3],
            timestamp=utc(row[4]),
        )

    def ca_distrust(self, fingerprint: bytes) -> CaDistrust | None:
        row = self._one(
            "SELECT province, effective_from, reason, block, timestamp FROM ca_distrusts "
            "WHERE fingerprint = ?",
            (bytes(fingerprint),),
        )
        if row is None:
            return None
        return CaDistrust(
            fingerprint=bytes(fingerprint),
            province=row[0],
            effective_from=utc(row[1]),
            reason=RevocationReason(row[2]),
            block_number=row[3],
            timestamp=utc(row[4]),
        )

    def anchor_of(self, issuer_id: str, root: bytes) -> Anchor | None:
        """The anchor ``issuer_id`` recorded for ``root`` (another issuer's copy of the same
        root is a separate anchor and never answers here)."""
        row = self._one(
            "SELECT cert_type, leaf_count, block, timestamp FROM anchors "
            "WHERE issuer_id = ? AND root = ?",
            (issuer_id, bytes(root)),
        )
        if row is None:
            return None
        return Anchor(
            root=bytes(root),
            issuer_id=issuer_id,
            cert_type=row[0],
            leaf_count=row[1],
            block_number=row[2],
            timestamp=utc(row[3]),
        )

    def anchor_count(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM anchors", ())[0])

    def root_revocation(self, issuer_id: str, root: bytes) -> Revocation | None:
        row = self._one(
            "SELECT reason, block, timestamp FROM root_revocations "
            "WHERE issuer_id = ? AND root = ?",
            (issuer_id, bytes(root)),
        )
        return None if row is None else Revocation(RevocationReason(row[0]), row[1], utc(row[2]))

    def certificate_revocation(self, issuer_id: str, root: bytes, leaf: bytes) -> Revocation | None:
        row = self._one(
            "SELECT reason, block, timestamp FROM leaf_revocations "
            "WHERE issuer_id = ? AND root = ? AND leaf = ?",
            (issuer_id, bytes(root), bytes(leaf)),
        )
        return None if row is None else Revocation(RevocationReason(row[0]), row[1], utc(row[2]))

    def is_recognised(self, verifying: str, issuing: str, cert_type: str) -> bool:
        if verifying == issuing:
            return self.province(verifying) is not None
        row = self._one(
            "SELECT recognised FROM recognitions WHERE verifying = ? AND issuing = ? "
            "AND cert_type = ?",
            (verifying, issuing, cert_type),
        )
        return bool(row and row[0])

    def recognitions(self) -> list[tuple[str, str, str]]:
        """Every standing agreement as ``(verifying, issuing, cert_type)``."""
        rows = self._all(
            "SELECT verifying, issuing, cert_type FROM recognitions "
            "WHERE recognised = 1 ORDER BY 1, 2, 3"
        )
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def bundle_keys(self) -> dict[str, tuple[bytes, bytes]]:
        """Each province's published trust-bundle key and its proof of possession (unchecked:
        ``ledger.bls.verified_keys`` checks them)."""
        rows = self._all("SELECT code, key, pop FROM bundle_keys ORDER BY code")
        return {str(r[0]): (bytes(r[1]), bytes(r[2])) for r in rows}

    def event_count(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM journal", ())[0])
