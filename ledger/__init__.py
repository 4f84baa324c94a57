"""Formats and chain access shared by the issuer and the verifier.

Everything both sides must agree on lives here, once: certificate leaves and document digests,
Merkle proofs, identifier encodings, the registry contract bindings, the event index and the
local chain node.

Importing py-ecc (web3 imports it) raises the interpreter's recursion limit to 100,000; a JSON
document nested that deep (a hostile attachment, bundle or node reply) then overflows the C
stack of a worker thread and kills the process instead of raising ``RecursionError``. The limit
is put back to Python's default here, after py-ecc, before anything parses input.
"""

import sys as _sys

import py_ecc as _py_ecc  # noqa: F401  (first: its import raises the recursion limit)

_sys.setrecursionlimit(1000)

from ledger.codes import RevocationReason  # noqa: E402
from ledger.errors import (  # noqa: E402
    ArtifactError,
    InvalidIdentifier,
    InvalidTime,
    KeystoreError,
    LedgerError,
    MerkleError,
    NodeUnavailable,
    RegistryRefused,
    TransactionRejected,
)
from ledger.leaf import CertificateLeaf  # noqa: E402
from ledger.merkle import MerkleProof, MerkleTree, verify_proof  # noqa: E402

__all__ = [
    "ArtifactError",
    "CertificateLeaf",
    "InvalidIdentifier",
    "InvalidTime",
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
