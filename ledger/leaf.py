"""The Merkle leaf of one certificate: what the chain commits to, defined once for both sides.

A leaf is OpenZeppelin's double-hashed leaf of the ABI-encoded tuple
``(uint8 version, bytes32 issuerId, bytes16 certType, bytes32 certificateIdHash,
bytes32 claimsCommitment, bytes32 documentDigest, uint64 validFrom, uint64 validUntil)``.

It binds the certificate to its issuer and type (so a root anchored by one issuer cannot vouch
for another's certificate), to the sealed document(s) (``documentDigest``), to the claims
(``claimsCommitment``, a salted commitment so nothing personal can be guessed from it) and to its
validity period. Only the leaf hash, never these values, goes on chain.

The version says what ``documentDigest`` is the digest of:

- **1**: the whole PDF file as issued. Any later byte, even validation data, changes it.
- **2**: the *sealed revision* — the file up to the end of the revision that the seal signs
  (``ledger.digest.sealed_revision_digest``), the signature included. Revisions appended later
  (validation data, document timestamps: PAdES B-LT / B-LTA) leave it unchanged; the verifier
  accepts them only when the difference analysis finds nothing else.
- **3** (a certificate issued as a PDF *and* an OFD): one record for both documents.
  ``documentDigest`` is ``sha256(pdfDigest ‖ ofdDigest)``, where ``pdfDigest`` is the PDF's
  sealed-revision digest (as in version 2) and ``ofdDigest`` the SHA-256 of the sealed OFD file's
  exact bytes; either is 32 zero bytes when that format was not issued. The tuple keeps its
  shape (the contract, the Hardhat vectors and every tool that recomputes leaves are
  unchanged); a verifier holding one file takes the other's digest from the proof record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from ledger.codes import cert_type_to_bytes, issuer_id_to_bytes
from ledger.errors import MerkleError
from ledger.keccak import keccak256

__all__ = [
    "LEAF_ABI_TYPES",
    "LEAF_VERSION",
    "LEAF_VERSIONS",
    "LEAF_VERSION_TWO_DOCUMENTS",
    "NO_DOCUMENT",
    "CertificateLeaf",
    "certificate_id_hash",
    "documents_digest",
    "hash_encoded_leaf",
]

LEAF_VERSION = 2
"""The version certificates issued as a PDF alone are issued with."""
LEAF_VERSION_TWO_DOCUMENTS = 3
"""The version of a certificate issued with an OFD (beside its PDF, or alone)."""
LEAF_VERSIONS = (1, 2, 3)
NO_DOCUMENT = bytes(32)
"""The digest a version-3 leaf holds for a format that was not issued."""
LEAF_ABI_TYPES = (
    "uint8",
    "bytes32",
    "bytes16",
    "bytes32",
    "bytes32",
    "bytes32",
    "uint64",
    "uint64",
)


def certificate_id_hash(certificate_id: str) -> bytes:
    """SHA-256 of the certificate number as printed (UTF-8)."""
    return hashlib.sha256(certificate_id.encode("utf-8")).digest()


def documents_digest(pdf_digest: bytes, ofd_digest: bytes) -> bytes:
    """``documentDigest`` of a version-3 leaf: SHA-256 of the two 32-byte digests, PDF first."""
    if len(pdf_digest) != 32 or len(ofd_digest) != 32:
        raise MerkleError("document digests are 32 bytes")
    return hashlib.sha256(pdf_digest + ofd_digest).digest()


def _seconds(moment: datetime | None) -> int:
    if moment is None:
        return 0
    if moment.tzinfo is None:
        raise MerkleError("leaf dates must be timezone-aware")
    return int(moment.astimezone(UTC).timestamp())


@dataclass(frozen=True, slots=True)
class CertificateLeaf:
    """The values a certificate's leaf commits to."""

    issuer_id: str
    """Registry id of the issuing department."""
    cert_type: str
    """Certificate type code, e.g. ``BUSINESS_LICENCE``."""
    certificate_id: str
    """Certificate number as printed on the document."""
    claims_commitment: bytes
    """32-byte salted commitment to the certificate's claims."""
    document_digest: bytes
    """SHA-256 of the sealed PDF: the whole file (version 1) or its sealed revision (2, 3;
    ``NO_DOCUMENT`` in a version-3 leaf of a certificate issued without a PDF)."""
    valid_from: datetime
    """Start of validity (timezone-aware)."""
    valid_until: datetime | None = None
    """End of validity, or ``None`` for a certificate that does not expire."""
    version: int = LEAF_VERSION
    """What ``document_digest`` covers (see the module docstring)."""
    ofd_digest: bytes | None = None
    """SHA-256 of the sealed OFD file (version 3 only: ``NO_DOCUMENT`` without an OFD)."""

    def __post_init__(self) -> None:
        if self.version not in LEAF_VERSIONS:
            raise MerkleError(f"unknown leaf version {self.version}")
        for name in ("claims_commitment", "document_digest"):
            if len(getattr(self, name)) != 32:
                raise MerkleError(f"{name} must be 32 bytes")
        if (self.ofd_digest is not None) != (self.version >= LEAF_VERSION_TWO_DOCUMENTS):
            needs = "needs an" if self.ofd_digest is None else "has no"
            raise MerkleError(f"a version-{self.version} leaf {needs} OFD digest")
        if self.ofd_digest is not None and len(self.ofd_digest) != 32:
            raise MerkleError("ofd_digest must be 32 bytes")
        if self.valid_until is not None and _seconds(self.valid_until) < _seconds(self.valid_from):
            raise MerkleError("valid_until is before valid_from")

    def abi_values(self) -> tuple[object, ...]:
        """The tuple that is ABI-encoded, in ``LEAF_ABI_TYPES`` order."""
        return (
            self.version,
            issuer_id_to_bytes(self.issuer_id),
            cert_type_to_bytes(self.cert_type),
            certificate_id_hash(self.certificate_id),
            bytes(self.claims_commitment),
            self.bound_digest(),
            _seconds(self.valid_from),
            _seconds(self.valid_until),
        )

    def bound_digest(self) -> bytes:
        """The ``documentDigest`` value of the tuple: the PDF's digest, or (version 3) the
        digest of both documents' digests."""
        if self.ofd_digest is None:
            return bytes(self.document_digest)
        return documents_digest(bytes(self.document_digest), bytes(self.ofd_digest))

    def encoded(self) -> bytes:
        """``abi.encode(values)``: every type in the tuple is static, so the encoding is one
        32-byte word per value (tests check it against eth-abi)."""
        return b"".join(map(_word, LEAF_ABI_TYPES, self.abi_values()))

    def hash(self) -> bytes:
        """``keccak256(keccak256(abi.encode(values)))``."""
        return hash_encoded_leaf(self.encoded())


def hash_encoded_leaf(encoded: bytes) -> bytes:
    """The leaf hash of ``CertificateLeaf.encoded()`` output (OpenZeppelin's double hash)."""
    return keccak256(keccak256(encoded))


_UINT_BITS = {"uint8": 8, "uint64": 64}
_BYTES_SIZE = {"bytes16": 16, "bytes32": 32}


def _word(abi_type: str, value: object) -> bytes:
    bits = _UINT_BITS.get(abi_type)
    if bits is not None:
        if not isinstance(value, int) or not 0 <= value < 1 << bits:
            raise MerkleError(f"{value!r} does not fit {abi_type}")
        return value.to_bytes(32, "big")
    size = _BYTES_SIZE[abi_type]
    if not isinstance(value, bytes) or len(value) != size:
        raise MerkleError(f"{abi_type} needs {size} bytes")
    return value if size == 32 else value + bytes(32 - size)
