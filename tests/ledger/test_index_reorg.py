"""Confirmations and reorganisations: the index takes in only blocks deep enough, and when the
node's chain drops blocks it held, it undoes them and ends exactly where an index built from
scratch on the new chain would be."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger import bls
from ledger.codes import RevocationReason
from ledger.index import RegistryIndex
from ledger.merkle import MerkleTree
from tests.conftest import World, fingerprint


def _index(world: World, *, confirmations: int = 0) -> RegistryIndex:
    return RegistryIndex(
        ":memory:",
        registry_address=world.registry.address,
        start_block=world.deployed.block_number,
        confirmations=confirmations,
    )


def _tester(world: World) -> Any:
    return world.chain.w3.provider.ethereum_tester  # type: ignore[attr-defined]


def _fork(world: World) -> Callable[[], None]:
    """Remember the chain here; the function returned drops every block mined since."""
    tester = _tester(world)
    snapshot = tester.take_snapshot()

    def drop() -> None:
        tester.revert_to_snapshot(snapshot)
        world.chain.forget_nonces()

    return drop


def _state(index: RegistryIndex) -> tuple[dict[str, str], dict[str, list[list[Any]]]]:
    return index.export_tables()


def _from_scratch(world: World) -> RegistryIndex:
    fresh = _index(world)
    fresh.sync(world.registry)
    return fresh


def _rich_history(world: World) -> MerkleTree:
    """Every kind of registry event, so that replaying the journal exercises each."""
    r = world.registry
    tree = MerkleTree([os.urandom(32) for _ in range(8)])
    r.anchor(world.issuer, tree.root, 8, "BUSINESS_LICENCE")
    proof = tree.proof(3)
    r.revoke_certificate(
        world.issuer, "ZJ-AMR", tree.root, proof.leaf, proof.siblings, RevocationReason.SUPERSEDED
    )
    other = MerkleTree([os.urandom(32)])
    r.anchor(world.gd_issuer, other.root, 1, "BIRTH_MEDICAL")
    r.revoke_root(world.gd, "GD-HOSP", other.root, RevocationReason.ISSUED_IN_ERROR)
    r.set_recognition(world.gd, "ZJ", "BUSINESS_LICENCE", True)
    r.rotate_seal_certificate(world.zj, "ZJ-AMR", fingerprint("seal 2"), fingerprint("ZJ CA 2"))
    at = datetime(2027, 1, 1, tzinfo=UTC)
    r.revoke_seal_certificate(world.zj, "ZJ-AMR", world.seal_fp, at, RevocationReason.SUPERSEDED)
    r.distrust_province_ca(world.admin, "GD", world.gd_ca_fp, at, RevocationReason.KEY_COMPROMISE)
    r.suspend_issuer(world.gd, "GD-HOSP")
    r.reactivate_issuer(world.gd, "GD-HOSP")
    secret = 7
    r.set_bundle_key(world.zj, bls.public_key(secret), bls.prove_possession(secret))
    return tree


def test_a_reorganisation_is_undone_back_to_the_last_block_both_chains_hold(world: World) -> None:
    r = world.registry
    tree = _rich_history(world)
    index = _index(world)
    index.sync(r)
    kept = world.chain.block_number()
    drop = _fork(world)
    lost = MerkleTree([os.urandom(32) for _ in range(2)])
    r.anchor(world.issuer, lost.root, 2, "BUSINESS_LICENCE")
    r.suspend_issuer(world.zj, "ZJ-AMR")
    r.revoke_root(world.zj, "ZJ-AMR", tree.root, RevocationReason.ISSUED_IN_ERROR)
    index.sync(r)
    assert index.anchor_of("ZJ-AMR", lost.root) is not None
    events_before = index.event_count()

    drop()  # the node switches to another branch from block `kept` on, and it grows longer
    won = MerkleTree([os.urandom(32) for _ in range(3)])
    r.anchor(world.issuer, won.root, 3, "BUSINESS_LICENCE")
    _tester(world).mine_blocks(4)
    result = index.sync(r)

    assert not result.rebuilt
    assert result.kept_block is not None
    assert result.kept_block <= kept
    assert result.events_undone == 3
    assert result.events == 1
    assert index.event_count() == events_before - 3 + 1
    assert index.anchor_of("ZJ-AMR", lost.root) is None
    assert index.anchor_of("ZJ-AMR", won.root) == r.anchor_of("ZJ-AMR", won.root)
    assert index.issuer("ZJ-AMR") == r.issuer("ZJ-AMR")
    assert index.root_revocation("ZJ-AMR", tree.root) is None
    assert index.freshness().block == world.chain.block_number()
    # Byte for byte what an index built from nothing on the winning chain holds.
    assert _state(index) == _state(_from_scratch(world))
    assert index.sync(r).events == 0


def test_confirmations_hold_back_the_newest_blocks(world: World) -> None:
    r = world.registry
    index = _index(world, confirmations=3)
    head = world.chain.block_number()
    first = index.sync(r)
    assert (first.head, first.to_block) == (head, head - 3)
    assert index.freshness().block == head - 3
    tree = MerkleTree([os.urandom(32) for _ in range(2)])
    anchored = r.anchor(world.issuer, tree.root, 2, "BUSINESS_LICENCE").block_number
    index.sync(r)
    assert index.anchor_of("ZJ-AMR", tree.root) is None  # on the chain, not yet deep enough
    _tester(world).mine_blocks(2)
    index.sync(r)
    assert index.anchor_of("ZJ-AMR", tree.root) is None
    _tester(world).mine_blocks(1)
    index.sync(r)
    found = index.anchor_of("ZJ-AMR", tree.root)
    assert found is not None
    assert found.block_number == anchored == index.freshness().block


def test_a_reorganisation_within_the_unconfirmed_blocks_touches_nothing(world: World) -> None:
    r = world.registry
    index = _index(world, confirmations=2)
    drop = _fork(world)
    r.suspend_issuer(world.zj, "ZJ-AMR")
    index.sync(r)
    held = _state(index)
    assert index.issuer("ZJ-AMR") != r.issuer("ZJ-AMR")  # its block is not deep enough yet
    drop()
    r.suspend_issuer(world.gd, "GD-HOSP")
    result = index.sync(r)
    assert (result.rebuilt, result.kept_block, result.events_undone) == (False, None, 0)
    assert _state(index) == held
    _tester(world).mine_blocks(2)
    index.sync(r)
    assert index.issuer("ZJ-AMR") == r.issuer("ZJ-AMR")
    assert index.issuer("GD-HOSP") == r.issuer("GD-HOSP")


def test_an_index_loaded_from_a_snapshot_is_rebuilt_on_a_reorganisation(world: World) -> None:
    r = world.registry
    source = _from_scratch(world)
    drop = _fork(world)
    r.suspend_issuer(world.zj, "ZJ-AMR")
    source.sync(r)
    loaded = _index(world)
    meta, tables = source.export_tables()
    loaded.import_tables(meta, tables, datetime.now(UTC))
    drop()  # the snapshot's last block is gone; its journal is not in the snapshot to undo
    r.suspend_issuer(world.gd, "GD-HOSP")
    result = loaded.sync(r)
    assert result.rebuilt
    assert _state(loaded) == _state(_from_scratch(world))


@pytest.mark.parametrize(
    ("moved", "field"),
    [(2, "parentHash"), (3, "hash"), (4, "hash")],
    ids=[
        "the chunk does not continue the indexed tip",
        "the event's block is another than its log's",
        "the tip is another after the logs",
    ],
)
def test_blocks_changing_while_a_chunk_is_read_leave_it_for_the_next_sync(
    world: World, monkeypatch: pytest.MonkeyPatch, moved: int, field: str
) -> None:
    """Reads in a sync of one new block: the indexed tip (1), the chunk's tip, also its first
    block (2), each event's block (3), the chunk's tip again (4)."""
    r = world.registry
    index = _index(world)
    index.sync(r)
    held = _state(index)
    r.suspend_issuer(world.zj, "ZJ-AMR")
    chain = world.chain
    original = chain.block
    calls: list[int] = []

    def moved_tip(number: Any) -> Any:
        block = dict(original(number))
        calls.append(int(number))
        if len(calls) == moved:
            block[field] = b"\x01" * 32
        return block

    synced = index.freshness().synced_at
    monkeypatch.setattr(chain, "block", moved_tip)
    assert index.sync(r).events == 0
    monkeypatch.undo()
    assert _state(index) == held
    assert index.freshness().synced_at == synced  # not current: the data's age keeps growing
    assert index.sync(r).events == 1
    assert index.issuer("ZJ-AMR") == r.issuer("ZJ-AMR")


def test_finding_the_kept_block_asks_the_node_about_few_blocks(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = world.registry
    index = _index(world)
    for _ in range(24):  # 24 more blocks with events, so halving has something to halve
        r.set_recognition(world.gd, "ZJ", "BUSINESS_LICENCE", True)
    index.sync(r)
    drop = _fork(world)
    r.suspend_issuer(world.zj, "ZJ-AMR")
    index.sync(r)
    drop()
    r.suspend_issuer(world.gd, "GD-HOSP")
    asked: list[int] = []
    original = world.chain.block

    def counted(number: Any) -> Any:
        asked.append(int(number))
        return original(number)

    monkeypatch.setattr(world.chain, "block", counted)
    result = index.sync(r)
    assert result.events_undone == 1
    # The old tip, ~log2(28) blocks searched, then the new block's tip (twice) and its event.
    assert len(asked) <= 1 + 6 + 3, asked
    print(f"node blocks asked for while following a reorganisation: {len(asked)}")
