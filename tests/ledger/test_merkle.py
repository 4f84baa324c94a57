from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import MerkleError
from ledger.merkle import MerkleTree, hash_pair, process_proof, verify_proof
from tests.conftest import World

hashes = st.binary(min_size=32, max_size=32)


@given(st.lists(hashes, min_size=1, max_size=70), st.data())
def test_every_leaf_proves_and_a_changed_leaf_does_not(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    proof = tree.proof(index)
    assert proof.leaf == leaves[index]
    assert proof.verify()
    other = data.draw(hashes.filter(lambda h: h != leaves[index]))
    assert not verify_proof(tree.root, other, proof.siblings)


@given(st.lists(hashes, min_size=2, max_size=40, unique=True), st.data())
def test_tampered_sibling_fails(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    proof = tree.proof(data.draw(st.integers(0, len(leaves) - 1)))
    position = data.draw(st.integers(0, len(proof.siblings) - 1))
    flipped = bytearray(proof.siblings[position])
    flipped[0] ^= 1
    siblings = list(proof.siblings)
    siblings[position] = bytes(flipped)
    assert not verify_proof(tree.root, proof.leaf, siblings)


def test_pair_hash_is_commutative_and_sorted() -> None:
    a, b = b"\x01" * 32, b"\x02" * 32
    assert hash_pair(a, b) == hash_pair(b, a)


def test_proof_depth_is_logarithmic() -> None:
    tree = MerkleTree([os.urandom(32) for _ in range(1024)])
    assert all(len(tree.proof(i).siblings) == 10 for i in (0, 511, 1023))
    odd = MerkleTree([os.urandom(32) for _ in range(5)])
    assert [len(odd.proof(i).siblings) for i in range(5)] == [3, 3, 3, 3, 1]


def test_single_leaf_is_its_own_root() -> None:
    leaf = os.urandom(32)
    tree = MerkleTree([leaf])
    assert tree.root == leaf
    assert tree.proof(0).siblings == ()


@pytest.mark.parametrize(
    "bad", [[], [b"short"], [b"\0" * 33]], ids=["empty", "short-leaf", "long-leaf"]
)
def test_malformed_batches_are_refused(bad: list[bytes]) -> None:
    with pytest.raises(MerkleError):
        MerkleTree(bad)


def test_out_of_range_index_and_malformed_proofs() -> None:
    tree = MerkleTree([os.urandom(32) for _ in range(3)])
    with pytest.raises(MerkleError):
        tree.proof(3)
    assert not verify_proof(tree.root, b"x", [])
    assert not verify_proof(b"short", tree.proof(0).leaf, tree.proof(0).siblings)
    with pytest.raises(MerkleError):
        process_proof(tree.proof(0).leaf, [b"bad"])


@settings(max_examples=25, deadline=None)
@given(st.lists(hashes, min_size=1, max_size=300), st.data())
def test_python_proofs_match_the_contracts_verification(
    module_world: World, leaves: list[bytes], data: st.DataObject
) -> None:
    tree = MerkleTree(leaves)
    proof = tree.proof(data.draw(st.integers(0, len(leaves) - 1)))
    assert module_world.registry.verify_inclusion(tree.root, proof.leaf, proof.siblings) is True
    wrong = bytes(32) if proof.leaf != bytes(32) else b"\1" * 32
    contract = module_world.registry.verify_inclusion(tree.root, wrong, proof.siblings)
    assert contract is verify_proof(tree.root, wrong, proof.siblings) is False
