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

__all__ = [
    "MerkleProof",
    "MerkleTree",
    "hash_pair",
    "multiproof_size",
    "process_multiproof",
    "process_proof",
    "verify_proof",
]

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


def _walk(size: int, positions: Sequence[int]) -> list[tuple[int, list[tuple[int, int]]]]:
    """The shape of a multiproof: per level (its width), the known positions in order, each
    with what it meets: the position of its known pair (``>= 0``), ``-1`` for a hash from the
    proof or ``-2`` for an odd last node that moves up alone."""
    if not 1 <= size <= MAX_LEAVES:
        raise MerkleError(f"a tree holds 1 to {MAX_LEAVES} leaves, not {size}")
    known = sorted(set(positions))
    if len(known) != len(positions) or not known or known[0] < 0 or known[-1] >= size:
        raise MerkleError("multiproof positions must be distinct, within the tree, at least one")
    levels: list[tuple[int, list[tuple[int, int]]]] = []
    while size > 1:
        steps: list[tuple[int, int]] = []
        for p in known:
            pair = p ^ 1
            if p & 1 and steps and steps[-1][0] == pair:
                continue  # already met as the left one of its pair
            if pair >= size:
                steps.append((p, -2))
            elif pair in known:
                steps.append((p, pair))
            else:
                steps.append((p, -1))
        levels.append((size, steps))
        known = sorted({p // 2 for p in known})
        size = (size + 1) // 2
    return levels


def multiproof_size(size: int, positions: Sequence[int]) -> int:
    """How many hashes a multiproof of the leaves at ``positions`` in a tree of ``size``
    leaves holds (its reader needs no count)."""
    return sum(other == -1 for _, steps in _walk(size, positions) for _, other in steps)


def process_multiproof(size: int, leaves: dict[int, bytes], hashes: Sequence[bytes]) -> bytes:
    """The root that a multiproof leads to from ``leaves`` (position → leaf hash) in a tree of
    ``size`` leaves built as ``MerkleTree`` builds it; ``hashes`` are the other nodes it needs,
    level by level, left to right (``MerkleTree.multiproof``). Like a single proof it proves
    only that each leaf is in the tree whose root it yields: the positions and the size only
    say how to combine. ``MerkleError`` if the hashes are too few, too many or malformed."""
    nodes = dict(leaves)
    for leaf in nodes.values():
        _check_hash(leaf, "leaf")
    given = iter(hashes)
    for _width, steps in _walk(size, list(nodes)):
        upper: dict[int, bytes] = {}
        for p, other in steps:
            if other == -2:
                upper[p // 2] = nodes[p]
                continue
            if other >= 0:
                sibling = nodes[other]
            else:
                sibling = next(given, b"")
                _check_hash(sibling, "proof element")
            upper[p // 2] = hash_pair(nodes[p], bytes(sibling))
        nodes = upper
    if next(given, None) is not None:
        raise MerkleError("the multiproof holds more hashes than the tree needs")
    return nodes[0]


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

    def multiproof(self, positions: Sequence[int]) -> tuple[bytes, ...]:
        """The nodes that prove the leaves at ``positions`` together: every sibling on their
        paths that is not itself on one of them (``process_multiproof`` reads them back)."""
        hashes: list[bytes] = []
        for depth, (_width, steps) in enumerate(_walk(len(self), positions)):
            hashes += [self._levels[depth][p ^ 1] for p, other in steps if other == -1]
        return tuple(hashes)
