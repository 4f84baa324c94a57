"""The event index mirrors the contract: what it answers equals what the node answers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ledger.chain import Chain
from ledger.codes import RevocationReason
from ledger.index import RegistryIndex
from ledger.merkle import MerkleTree
from tests.conftest import World, build_world, fingerprint


def _index(world: World, path: Path | str = ":memory:") -> RegistryIndex:
    return RegistryIndex(
        path, registry_address=world.registry.address, start_block=world.deployed.block_number
    )


def test_index_answers_like_the_contract(world: World, tmp_path: Path) -> None:
    r = world.registry
    tree = MerkleTree([os.urandom(32) for _ in range(32)])
    r.anchor(world.issuer, tree.root, 32, "BUSINESS_LICENCE")
    proof = tree.proof(7)
    r.revoke_certificate(
        world.issuer, tree.root, proof.leaf, proof.siblings, RevocationReason.SUPERSEDED
    )
    other = MerkleTree([os.urandom(32)])
    r.anchor(world.gd_issuer, other.root, 1, "BIRTH_MEDICAL")
    r.revoke_root(world.gd, other.root, RevocationReason.ISSUED_IN_ERROR)
    r.set_recognition(world.gd, "ZJ", "BUSINESS_LICENCE", True)
    new_fp = fingerprint("ZJ-AMR seal 2")
    r.rotate_seal_certificate(world.zj, "ZJ-AMR", new_fp)
    r.suspend_issuer(world.gd, "GD-HOSP")

    index = _index(world, tmp_path / "index.sqlite")
    result = index.sync(r)
    assert result.events == index.event_count() > 10
    assert index.freshness().block == world.chain.block_number()
    for root in (tree.root, other.root):
        assert index.anchor_of(root) == r.anchor_of(root)
        assert index.root_revocation(root) == r.root_revocation(root)
    assert index.certificate_revocation(tree.root, proof.leaf) == r.certificate_revocation(
        tree.root, proof.leaf
    )
    assert index.certificate_revocation(tree.root, tree.proof(1).leaf) is None
    for issuer_id in ("ZJ-AMR", "GD-HOSP"):
        assert index.issuer(issuer_id) == r.issuer(issuer_id)
        assert index.is_authorised(issuer_id, "BUSINESS_LICENCE") == r.is_authorised(
            issuer_id, "BUSINESS_LICENCE"
        )
    for fp in (world.seal_fp, new_fp):
        assert index.seal_certificate(fp) == r.seal_certificate(fp)
    assert index.provinces() == r.provinces()
    assert index.recognitions() == [("GD", "ZJ", "BUSINESS_LICENCE")]
    for pair in (("GD", "ZJ"), ("ZJ", "GD"), ("ZJ", "ZJ")):
        assert index.is_recognised(*pair, "BUSINESS_LICENCE") == r.is_recognised(
            *pair, "BUSINESS_LICENCE"
        )
    assert [c for _, c, _ in index.issuer_history("GD-HOSP")] == [
        "REGISTERED",
        "TYPE_GRANTED",
        "SUSPENDED",
    ]
    index.close()

    reopened = _index(world, tmp_path / "index.sqlite")  # persisted: no node needed to answer
    assert reopened.anchor_of(tree.root) == r.anchor_of(tree.root)
    assert reopened.sync(r).events == 0


def test_incremental_sync_picks_up_only_new_events(world: World) -> None:
    index = _index(world)
    first = index.sync(world.registry)
    tree = MerkleTree([os.urandom(32) for _ in range(4)])
    assert index.anchor_of(tree.root) is None
    world.registry.anchor(world.issuer, tree.root, 4, "BUSINESS_LICENCE")
    second = index.sync(world.registry)
    assert second.from_block == first.to_block + 1
    assert second.events == 1
    assert index.anchor_of(tree.root) is not None


def test_index_rebuilds_when_the_chain_is_not_the_one_it_indexed() -> None:
    key = b"\x42" * 32
    first = build_world(Chain.in_process(), admin_key=key)
    index = _index(first)
    index.sync(first.registry)
    # Another chain (a reset dev node) with a registry at the same address and other history.
    other = build_world(Chain.in_process(), admin_key=key)
    assert other.registry.address == first.registry.address
    other.registry.suspend_issuer(other.zj, "ZJ-AMR")
    other.registry.suspend_issuer(other.gd, "GD-HOSP")
    result = index.sync(other.registry)
    assert result.rebuilt
    issuer = index.issuer("ZJ-AMR")
    assert issuer is not None
    assert issuer.account == other.issuer.address


def test_index_refuses_another_registry(world: World, tmp_path: Path) -> None:
    _index(world, tmp_path / "i.sqlite").close()
    with pytest.raises(ValueError, match="belongs to registry"):
        RegistryIndex(tmp_path / "i.sqlite", registry_address="0x" + "12" * 20)


def test_two_indexes_sharing_one_file_never_apply_an_event_twice(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A verifier service's workers (and ``ecert verify`` beside them) share one index file:
    when another process commits while this one is fetching, this one must not re-apply."""
    path = tmp_path / "shared.sqlite"
    a, b = _index(world, path), _index(world, path)
    a.sync(world.registry)
    world.registry.suspend_issuer(world.gd, "GD-HOSP")
    world.registry.reactivate_issuer(world.gd, "GD-HOSP")
    chain = world.registry.chain
    original = chain.block
    raced: list[int] = []

    def block_with_a_race(number: int) -> object:
        if not raced:  # b has read the file and is fetching: a catches up first
            raced.append(-1)
            monkeypatch.setattr(chain, "block", original)
            raced[0] = a.sync(world.registry).events
        return original(number)

    monkeypatch.setattr(chain, "block", block_with_a_race)
    b.sync(world.registry)
    monkeypatch.undo()
    assert raced == [2]
    history = [c for _, c, _ in b.issuer_history("GD-HOSP")]
    assert history == ["REGISTERED", "TYPE_GRANTED", "SUSPENDED", "ACTIVE"]
    assert a.sync(world.registry).events == b.sync(world.registry).events == 0
    assert a.freshness().block == b.freshness().block == world.chain.block_number()
