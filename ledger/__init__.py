"""Formats and chain access shared by the issuer and the verifier.

Everything both sides must agree on lives here, once: certificate leaves and document digests,
Merkle proofs, identifier encodings, the registry contract bindings, the event index and the
local chain node.
"""

from ledger.codes import RevocationReason
from ledger.errors import (
    ArtifactError,
    InvalidIdentifier,
    KeystoreError,
    LedgerError,
    MerkleError,
    NodeUnavailable,
    RegistryRefused,
    TransactionRejected,
)
from ledger.leaf import CertificateLeaf
from ledger.merkle import MerkleProof, MerkleTree, verify_proof

__all__ = [
    "ArtifactError",
    "CertificateLeaf",
    "InvalidIdentifier",
    "KeystoreError",
    "LedgerError",
    "MerkleError",
    "MerkleProof",
    "MerkleTree",
    "NodeUnavailable",
    "RegistryRefused",
    "RevocationReason",
    "TransactionRejected",
    "verify_proof",
]
