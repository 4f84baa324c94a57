"""Writes ``merkle.json``: certificate leaves, roots and proofs computed by the Python ledger.

The Hardhat suite recomputes every leaf with ethers and checks every proof with the contract's
own ``verifyInclusion``; ``tests/ledger/test_leaf_and_codes.py`` checks the file is what the
Python code produces today. Regenerate with ``python -m tests.vectors.generate`` after changing
a format.

Version-3 cases (a certificate issued as a PDF and an OFD) have the same tuple; they also carry
``pdf_digest`` and ``ofd_digest``, whose combination is the tuple's ``documentDigest`` (the
Hardhat suite ignores those two keys: the contract never sees them).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger.leaf import LEAF_ABI_TYPES, NO_DOCUMENT, CertificateLeaf
from ledger.merkle import MerkleTree

PATH = Path(__file__).with_name("merkle.json")
_TYPES = ("BUSINESS_LICENCE", "DEGREE_CERT", "BIRTH_MEDICAL", "REAL_ESTATE")


def _hex(value: object) -> object:
    return "0x" + value.hex() if isinstance(value, bytes) else value


def build() -> dict[str, object]:
    rng = random.Random(20261122)  # fixed seed: the file must be reproducible
    cases: list[dict[str, object]] = []
    for size in (1, 2, 3, 5, 8, 13, 64):
        leaves = []
        for n in range(size):
            start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(300))
            leaves.append(
                CertificateLeaf(
                    issuer_id=f"ISSUER-{rng.randrange(100):02d}",
                    cert_type=rng.choice(_TYPES),
                    certificate_id=f"证书-{size}-{n:04d}",
                    claims_commitment=rng.randbytes(32),
                    document_digest=rng.randbytes(32),
                    valid_from=start,
                    valid_until=None if n % 3 == 0 else start + timedelta(days=3650),
                    version=1,  # the committed vectors predate version 2 (Merkle is the same)
                )
            )
        tree = MerkleTree([leaf.hash() for leaf in leaves])
        for index in sorted({0, size // 2, size - 1}):
            proof = tree.proof(index)
            cases.append(
                {
                    "batch_size": size,
                    "index": index,
                    "values": [_hex(v) for v in leaves[index].abi_values()],
                    "leaf": _hex(proof.leaf),
                    "root": _hex(proof.root),
                    "proof": [_hex(s) for s in proof.siblings],
                }
            )
    leaves = []
    for n in range(5):
        start = datetime(2027, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(300))
        leaves.append(
            CertificateLeaf(
                issuer_id=f"ISSUER-{rng.randrange(100):02d}",
                cert_type=rng.choice(_TYPES),
                certificate_id=f"证书-v3-{n:04d}",
                claims_commitment=rng.randbytes(32),
                document_digest=NO_DOCUMENT if n == 4 else rng.randbytes(32),  # OFD only
                valid_from=start,
                valid_until=start + timedelta(days=3650),
                version=3,
                ofd_digest=rng.randbytes(32),
            )
        )
    tree = MerkleTree([leaf.hash() for leaf in leaves])
    for index, leaf in enumerate(leaves):
        proof = tree.proof(index)
        cases.append(
            {
                "batch_size": len(leaves),
                "index": index,
                "values": [_hex(v) for v in leaf.abi_values()],
                "pdf_digest": _hex(leaf.document_digest),
                "ofd_digest": _hex(leaf.ofd_digest),
                "leaf": _hex(proof.leaf),
                "root": _hex(proof.root),
                "proof": [_hex(s) for s in proof.siblings],
            }
        )
    return {"leaf_abi_types": list(LEAF_ABI_TYPES), "cases": cases}


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    PATH.write_text(render(), "utf-8")
    print(f"wrote {PATH}")
