"""Salted, per-field commitments to a certificate's claims.

Each claim becomes a leaf ``keccak256(keccak256(abi.encode(bytes16 salt, string key,
string value)))`` whose salt is derived from one 32-byte secret per certificate
(HMAC-SHA256(secret, key), truncated to 16 bytes); the commitment is the Merkle root of those
leaves in key order. So:

- nothing can be learned from the commitment, or from any undisclosed field's leaf, without the
  secret (no dictionary attack on names or ID numbers);
- a holder can later reveal chosen fields with their salts and Merkle proofs, and a verifier can
  check each belongs to the anchored certificate (selective disclosure) — one proof per field,
  or one multiproof for all of them (``ledger.merkle.process_multiproof``: the positions in key
  order and the tree's size tell how to combine).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eth_abi.abi import encode

from ledger.errors import MerkleError
from ledger.keccak import keccak256
from ledger.merkle import MerkleTree, verify_proof

__all__ = ["ClaimsCommitment", "DisclosedClaim", "claim_leaf", "field_salt"]

SECRET_SIZE = 32


def field_salt(secret: bytes, key: str) -> bytes:
    """The 16-byte salt of one field."""
    if len(secret) != SECRET_SIZE:
        raise MerkleError("the claims secret must be 32 bytes")
    return hmac.new(secret, key.encode("utf-8"), hashlib.sha256).digest()[:16]


def claim_leaf(salt: bytes, key: str, value: str) -> bytes:
    """The leaf of one claim."""
    return keccak256(keccak256(encode(["bytes16", "string", "string"], [salt, key, value])))


@dataclass(frozen=True, slots=True)
class DisclosedClaim:
    """One revealed claim with what proves it belongs to a commitment."""

    key: str
    value: str
    salt: bytes
    siblings: tuple[bytes, ...]

    def verify(self, commitment: bytes) -> bool:
        return verify_proof(commitment, claim_leaf(self.salt, self.key, self.value), self.siblings)


class ClaimsCommitment:
    """The commitment to a set of claims, and disclosures of any of them."""

    def __init__(self, claims: Mapping[str, str], secret: bytes) -> None:
        if not claims:
            raise MerkleError("a certificate needs at least one claim")
        self.keys = tuple(sorted(claims))
        self._claims = {k: str(claims[k]) for k in self.keys}
        self._salts = {k: field_salt(secret, k) for k in self.keys}
        self._tree = MerkleTree([claim_leaf(self._salts[k], k, self._claims[k]) for k in self.keys])

    @property
    def root(self) -> bytes:
        return self._tree.root

    @property
    def size(self) -> int:
        """How many claims (leaves) the commitment holds."""
        return len(self.keys)

    def position(self, key: str) -> int:
        """The leaf position of a claim (claims are in key order)."""
        return self.keys.index(key)

    def salt(self, key: str) -> bytes:
        return self._salts[key]

    def multiproof(self, keys: Sequence[str]) -> tuple[bytes, ...]:
        """The nodes proving the named claims together (``MerkleTree.multiproof``)."""
        unknown = set(keys) - set(self.keys)
        if unknown:
            raise MerkleError(f"no such claims: {sorted(unknown)}")
        return self._tree.multiproof([self.position(k) for k in keys])

    def disclose(self, keys: Sequence[str]) -> list[DisclosedClaim]:
        """Reveal the named claims, each with its salt and proof."""
        unknown = set(keys) - set(self.keys)
        if unknown:
            raise MerkleError(f"no such claims: {sorted(unknown)}")
        return [
            DisclosedClaim(
                key=k,
                value=self._claims[k],
                salt=self._salts[k],
                siblings=self._tree.proof(self.keys.index(k)).siblings,
            )
            for k in keys
        ]
