"""The public proof of one anchored certificate: the leaf values (codes and hashes only, nothing
personal) and the Merkle path to its anchored root. Issuers publish it (their proof directory);
verifiers read it. Defined once here for both.

A version-3 record (a certificate issued as a PDF and an OFD) carries both documents' digests,
so a verifier holding either file recomputes the one leaf: the PDF's digest from the PDF and
the OFD's from the record, or the other way round."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.errors import MerkleError
from ledger.leaf import LEAF_VERSION_TWO_DOCUMENTS, LEAF_VERSIONS, CertificateLeaf
from ledger.merkle import MerkleProof

__all__ = ["ProofRecord"]

FORMAT = "ecert-proof/1"


@dataclass(frozen=True, slots=True)
class ProofRecord:
    issuer_id: str
    cert_type: str
    certificate_id: str
    claims_commitment: bytes
    document_digest: bytes
    valid_from: datetime
    valid_until: datetime | None
    root: bytes
    siblings: tuple[bytes, ...]
    index: int
    block: int
    leaf_version: int = 1
    """What ``document_digest`` covers (``ledger.leaf``); records from before version 2 have
    no such field and are version 1."""
    ofd_digest: bytes | None = None
    """SHA-256 of the sealed OFD file (version 3; ``ledger.leaf.NO_DOCUMENT`` if none was
    issued); ``None`` before version 3."""

    def leaf(self) -> CertificateLeaf:
        return CertificateLeaf(
            issuer_id=self.issuer_id,
            cert_type=self.cert_type,
            certificate_id=self.certificate_id,
            claims_commitment=self.claims_commitment,
            document_digest=self.document_digest,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            version=self.leaf_version,
            ofd_digest=self.ofd_digest,
        )

    def merkle_proof(self) -> MerkleProof:
        return MerkleProof(
            root=self.root, leaf=self.leaf().hash(), index=self.index, siblings=self.siblings
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "issuer_id": self.issuer_id,
            "cert_type": self.cert_type,
            "certificate_id": self.certificate_id,
            "claims_commitment": self.claims_commitment.hex(),
            "document_digest": self.document_digest.hex(),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "root": self.root.hex(),
            "siblings": [s.hex() for s in self.siblings],
            "index": self.index,
            "block": self.block,
            "leaf_version": self.leaf_version,
            **({"ofd_digest": self.ofd_digest.hex()} if self.ofd_digest is not None else {}),
        }

    @classmethod
    def from_json(cls, raw: Any) -> ProofRecord:
        try:
            if raw.get("format") != FORMAT:
                raise MerkleError(f"not an {FORMAT} record")
            until = raw.get("valid_until")
            version = int(raw.get("leaf_version", 1))
            if version not in LEAF_VERSIONS:
                raise MerkleError(f"unknown leaf version {version}")
            ofd = raw.get("ofd_digest")
            if (ofd is not None) != (version >= LEAF_VERSION_TWO_DOCUMENTS):
                raise MerkleError(f"a version-{version} record with ofd_digest {ofd!r}")
            record = cls(
                issuer_id=str(raw["issuer_id"]),
                cert_type=str(raw["cert_type"]),
                certificate_id=str(raw["certificate_id"]),
                claims_commitment=bytes.fromhex(raw["claims_commitment"]),
                document_digest=bytes.fromhex(raw["document_digest"]),
                valid_from=datetime.fromisoformat(raw["valid_from"]),
                valid_until=datetime.fromisoformat(until) if until else None,
                root=bytes.fromhex(raw["root"]),
                siblings=tuple(bytes.fromhex(s) for s in raw["siblings"]),
                index=int(raw["index"]),
                block=int(raw["block"]),
                leaf_version=version,
                ofd_digest=bytes.fromhex(ofd) if ofd is not None else None,
            )
            record.leaf()  # digests of the right sizes, dates in order
            return record
        except (AttributeError, KeyError, OverflowError, TypeError, ValueError) as exc:
            raise MerkleError(f"malformed proof record: {exc}") from exc
