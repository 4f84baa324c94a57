"""Merkle trees over certificate leaves, compatible with OpenZeppelin's ``MerkleProof``.

Pairs are hashed sorted (``keccak256(min(a, b) || max(a, b))``), so a proof is just the list of
sibling hashes from leaf to root and needs no left/right flags. Leaves are the double-hashed
values of :mod:`ledger.leaf`, so no 64-byte interior node can pass for a leaf. Leaves keep the
order they were given (a batch's index is its position); an odd node at the end of a level moves
up unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import MerkleError
from ledger.keccak import keccak256

__all__ = ["MerkleProof", "MerkleTree", "hash_pair", "process_proof", "verify_proof"]

HASH_SIZE = 32
MAX_LEAVES = 1 << 24


def hash_pair(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin's commutative pair hash."""
    return keccak256(a + b) if a < b else keccak256(b + a)


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise MerkleError(f"{what} must be {HASH_SIZE} bytes")


@dataclass(frozen=True, slots=True)
class MerkleProof:
    """Inclusion of one leaf in a batch."""

    root: bytes
    """The batch root as anchored on chain."""
    leaf: bytes
    """The certificate's leaf hash."""
    index: int
    """Position of the leaf in its batch (informative; verification does not need it)."""
    siblings: tuple[bytes, ...]
    """Sibling hashes from the leaf up to the root."""

    def verify(self) -> bool:
        """Whether the siblings lead from ``leaf`` to ``root``."""
        return verify_proof(self.root, self.leaf, self.siblings)


def process_proof(leaf: bytes, siblings: Sequence[bytes]) -> bytes:
    """The root that ``siblings`` lead to from ``leaf`` (OpenZeppelin ``processProof``)."""
    _check_hash(leaf, "leaf")
    node = bytes(leaf)
    for sibling in siblings:
        _check_hash(sibling, "proof element")
        node = hash_pair(node, bytes(sibling))
    return node


def verify_proof(root: bytes, leaf: bytes, siblings: Sequence[bytes]) -> bool:
    """Whether ``siblings`` prove ``leaf`` under ``root``; malformed input is simply ``False``."""
    try:
        _check_hash(root, "root")
        return process_proof(leaf, siblings) == root
    except MerkleError:
        return False


class MerkleTree:
    """A batch of leaves with its root and the proof of every leaf."""

    __slots__ = ("_levels",)

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise MerkleError("a Merkle tree needs at least one leaf")
        if len(leaves) > MAX_LEAVES:
            raise MerkleError(f"a batch holds at most {MAX_LEAVES} leaves")
        for leaf in leaves:
            _check_hash(leaf, "leaf")
        level = [bytes(leaf) for leaf in leaves]
        levels = [level]
        while len(level) > 1:
            nxt = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            levels.append(nxt)
            level = nxt
        self._levels = levels

    def __len__(self) -> int:
        return len(self._levels[0])

    @property
    def root(self) -> bytes:
        """The value to anchor."""
        return self._levels[-1][0]

    @property
    def leaves(self) -> tuple[bytes, ...]:
        return tuple(self._levels[0])

    def proof(self, index: int) -> MerkleProof:
        """The inclusion proof of the leaf at ``index``."""
        if not 0 <= index < len(self):
            raise MerkleError(f"leaf index {index} out of range 0..{len(self) - 1}")
        siblings: list[bytes] = []
        position = index
        for level in self._levels[:-1]:
            pair = position ^ 1
            if pair < len(level):
                siblings.append(level[pair])
            position //= 2
        return MerkleProof(
            root=self.root, leaf=self._levels[0][index], index=index, siblings=tuple(siblings)
        )
