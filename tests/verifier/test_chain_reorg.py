"""The verifier's view of the chain across a reorganisation and with confirmations: facts from
dropped blocks are never answered again, the reorganisation shows in the sync health, and
witnesses are not taken for ahead just because the index waits for confirmations."""

from __future__ import annotations

from typing import Any

from ledger.index import RegistryIndex
from ledger.records import IssuerStatus
from tests.conftest import World
from verifier.chainview import ChainView
from verifier.quorum import cross_check


def _index(world: World, *, confirmations: int = 0) -> RegistryIndex:
    return RegistryIndex(
        ":memory:",
        registry_address=world.registry.address,
        start_block=world.deployed.block_number,
        confirmations=confirmations,
    )


def _tester(world: World) -> Any:
    return world.chain.w3.provider.ethereum_tester  # type: ignore[attr-defined]


def _status(view: ChainView, issuer_id: str) -> IssuerStatus:
    issuer = view.issuer(issuer_id)
    assert issuer is not None
    return issuer.status


def test_facts_of_dropped_blocks_are_not_answered_after_a_reorganisation(world: World) -> None:
    r = world.registry
    view = ChainView(_index(world), r, sync_interval=0.0)
    assert view.refresh(force=True)
    tester = _tester(world)
    fork = tester.take_snapshot()
    r.suspend_issuer(world.zj, "ZJ-AMR")
    assert view.refresh(force=True)
    assert _status(view, "ZJ-AMR") is IssuerStatus.SUSPENDED  # remembered for this block
    dropped = view.freshness().block
    tester.revert_to_snapshot(fork)
    world.chain.forget_nonces()
    r.suspend_issuer(world.gd, "GD-HOSP")  # another block at the same height
    assert view.refresh(force=True)
    assert view.freshness().block == dropped
    assert _status(view, "ZJ-AMR") is IssuerStatus.ACTIVE
    assert _status(view, "GD-HOSP") is IssuerStatus.SUSPENDED
    health = view.health
    assert (health.reorganisations_total, health.events_undone_total) == (1, 1)
    assert health.to_json()["reorganisations_total"] == 1


def test_witnesses_at_the_head_agree_with_an_index_waiting_for_confirmations(
    world: World,
) -> None:
    index = _index(world, confirmations=5)
    _tester(world).mine_blocks(6)
    index.sync(world.registry)
    assert index.freshness().block == world.chain.block_number() - 5
    # The same node as a witness: at the head, five blocks past the index, and it has them.
    assert cross_check(index, [world.chain], read_quorum=2, max_lag_blocks=2) is None
    _tester(world).mine_blocks(3)  # the index now misses blocks it could have taken
    found = cross_check(index, [world.chain], read_quorum=2, max_lag_blocks=2)
    assert found is not None
    assert "missing blocks" in found
