"""Delta trust bundles: a week of daily deltas applied in order gives exactly the state of the
full bundle of each day; a delta from another base, with too few signers, tampered (a row added
or removed, its base changed, its block moved back) or older than the state held is refused,
and a refused delta leaves the index as it was."""

from __future__ import annotations

import os
from dataclasses import replace
from itertools import pairwise
from typing import Any

import pytest

from ledger.bundle import (
    BundleRejected,
    DeltaBundle,
    SignedBundle,
    TrustBundle,
    apply_delta,
    chain_deltas,
)
from ledger.bundle_changes import Changes
from ledger.codes import RevocationReason
from ledger.index import RegistryIndex
from ledger.merkle import MerkleTree
from tests.conftest import World
from tests.ledger.test_bundle import _index, _signed, _verify, consortium

__all__ = ["consortium"]  # the fixture, shared with test_bundle

EVERYONE = ["GD", "JS", "ZJ"]


def _day(world: World, day: int) -> None:
    """What a day brings: a batch anchored, one of its certificates revoked, and every other
    day a change to rows already there (ZJ-AMR suspended on day 4, reactivated on day 5, a
    recognition granted or withdrawn)."""
    r = world.registry
    if day == 5:
        r.reactivate_issuer(world.zj, "ZJ-AMR")
    tree = MerkleTree([os.urandom(32) for _ in range(4)])
    r.anchor(world.issuer, tree.root, 4, "BUSINESS_LICENCE")
    proof = tree.proof(day % 4)
    reason = RevocationReason.ISSUED_IN_ERROR
    r.revoke_certificate(world.issuer, "ZJ-AMR", tree.root, proof.leaf, proof.siblings, reason)
    if day % 2:
        r.set_recognition(world.gd, "ZJ", "BUSINESS_LICENCE", day % 4 == 1)
    elif day == 4:
        r.suspend_issuer(world.zj, "ZJ-AMR")


@pytest.fixture
def week(
    consortium: tuple[World, dict[str, bytes]],
) -> tuple[World, list[SignedBundle], list[SignedBundle]]:
    """Full bundles of day 0 to 7, each signed, and the signed deltas day n-1 → n."""
    world, _keys = consortium
    source = _index(world)
    fulls = [_signed(TrustBundle.from_index(source, world.chain.chain_id), EVERYONE)]
    for day in range(1, 8):
        _day(world, day)
        source.sync(world.registry)
        fulls.append(_signed(TrustBundle.from_index(source, world.chain.chain_id), EVERYONE))
    deltas = []
    for before, after in pairwise(fulls):
        assert isinstance(after.bundle, TrustBundle)
        delta = DeltaBundle.between(before.bundle, after.bundle)  # type: ignore[arg-type]
        deltas.append(SignedBundle(delta, after.signers, after.signature))  # no new signatures
    return world, fulls, deltas


def _loaded(world: World, signed: SignedBundle) -> RegistryIndex:
    index = RegistryIndex(":memory:", registry_address=world.registry.address)
    signed.bundle.load_into(index)  # type: ignore[union-attr]
    return index


def _held(signed: SignedBundle) -> tuple[int, bytes]:
    return signed.bundle.block, signed.bundle.identity()


def test_a_week_of_daily_deltas_gives_the_full_bundle_of_each_day(
    week: tuple[World, list[SignedBundle], list[SignedBundle]],
) -> None:
    world, fulls, deltas = week
    offline = _loaded(world, fulls[0])
    for day, signed in enumerate(deltas, start=1):
        parsed = SignedBundle.parse(signed.encode())  # as a peer or a file carries it
        assert isinstance(parsed.bundle, DeltaBundle)
        assert len(parsed.encode()) < len(fulls[day].encode())  # (at scale: the bench)
        _verify(world, parsed, newest_seen=_held(fulls[day - 1]))
        full = apply_delta(parsed.bundle, offline)
        assert full.identity() == fulls[day].bundle.identity()
        assert offline.export_tables() == _loaded(world, fulls[day]).export_tables()
    assert offline.issuer("ZJ-AMR") == _index(world).issuer("ZJ-AMR")

    # The week as one delta (what a peer holding day 0 would serve): the same state.
    week_long = chain_deltas([d.bundle for d in deltas])  # type: ignore[misc]
    again = _loaded(world, fulls[0])
    signed = SignedBundle(week_long, fulls[7].signers, fulls[7].signature)
    _verify(world, signed, newest_seen=_held(fulls[0]))
    apply_delta(week_long, again)
    assert again.export_tables() == offline.export_tables()
    direct = DeltaBundle.between(fulls[0].bundle, fulls[7].bundle)  # type: ignore[arg-type]
    assert direct.encoded_changes == week_long.encoded_changes


def test_a_delta_from_another_state_with_too_few_signers_or_older_is_refused(
    week: tuple[World, list[SignedBundle], list[SignedBundle]],
) -> None:
    world, fulls, deltas = week
    # A gap: holding day 2, the delta 3 → 4 does not start from it (the verifier then takes a
    # full bundle, tests/verifier/test_bundle_deltas.py).
    with pytest.raises(BundleRejected) as gap:
        _verify(world, deltas[3], newest_seen=_held(fulls[2]))
    assert gap.value.reason == "BASE"
    with pytest.raises(BundleRejected) as nothing:
        _verify(world, deltas[0])
    assert nothing.value.reason == "BASE"
    # Too few signers: refused exactly as the full bundle of that state is.
    lonely = _signed(deltas[0].bundle, ["GD", "ZJ"])
    lonely_full = _signed(fulls[1].bundle, ["GD", "ZJ"])
    assert lonely.signature == lonely_full.signature
    for signed in (lonely, lonely_full):
        with pytest.raises(BundleRejected) as few:
            _verify(world, signed, newest_seen=_held(fulls[0]))
        assert few.value.reason == "QUORUM"
    # Holding day 3, the (genuine) delta 1 → 2 is a replay.
    with pytest.raises(BundleRejected) as old:
        _verify(world, deltas[1], newest_seen=_held(fulls[3]))
    assert old.value.reason == "STALE"


def _with_changes(signed: SignedBundle, changes: Changes) -> SignedBundle:
    delta = signed.bundle
    assert isinstance(delta, DeltaBundle)
    base = (delta.base_block, delta.base_digest)
    forged = DeltaBundle.from_changes(delta.checkpoint, *base, changes)
    return SignedBundle(forged, signed.signers, signed.signature)


def test_a_tampered_delta_is_refused_and_leaves_the_index_as_it_was(
    week: tuple[World, list[SignedBundle], list[SignedBundle]],
) -> None:
    world, fulls, deltas = week
    signed = deltas[4]  # day 4 → 5: an anchor, a revocation, a recognition changed
    delta = signed.bundle
    assert isinstance(delta, DeltaBundle)
    changes = delta.changes
    assert changes.counts()["anchors"] == (0, 1)
    assert changes.removed["recognitions"] or changes.added["recognitions"]

    added: dict[str, list[Any]] = {t: list(r) for t, r in changes.added.items()}
    extra = list(added["anchors"][0])
    extra[1] = os.urandom(32)  # a root nobody anchored
    added["anchors"].append(tuple(extra))
    row_added = _with_changes(signed, Changes(changes.removed, added))
    fewer = {t: list(r) for t, r in changes.added.items()}
    fewer["leaf_revocations"] = []  # a revocation withheld
    row_removed = _with_changes(signed, Changes(changes.removed, fewer))

    for forged in (row_added, row_removed):
        again = SignedBundle.parse(forged.encode())
        _verify(world, again, newest_seen=_held(fulls[4]))  # the signature is the checkpoint's
        offline = _loaded(world, fulls[4])
        before = offline.export_tables()
        with pytest.raises(BundleRejected) as refused:
            apply_delta(again.bundle, offline)  # type: ignore[arg-type]
        assert refused.value.reason == "DELTA"
        assert offline.export_tables() == before

    # Its base changed: to another state, or to the one held (then its rows do not fit).
    other_base = replace(delta, base_digest=os.urandom(32))
    with pytest.raises(BundleRejected) as based:
        _verify(world, replace(signed, bundle=other_base), newest_seen=_held(fulls[4]))
    assert based.value.reason == "BASE"
    moved = replace(delta, base_block=fulls[3].bundle.block, base_digest=fulls[3].bundle.identity())
    _verify(world, replace(signed, bundle=moved), newest_seen=_held(fulls[3]))
    offline = _loaded(world, fulls[3])
    before = offline.export_tables()
    with pytest.raises(BundleRejected) as misfit:
        apply_delta(moved, offline)
    assert misfit.value.reason == "DELTA"
    assert offline.export_tables() == before

    # Its block moved back (or any header field changed): the signed checkpoint changes.
    checkpoint = replace(delta.checkpoint, block=delta.block - 1)
    back = replace(signed, bundle=replace(delta, checkpoint=checkpoint))
    with pytest.raises(BundleRejected) as signature:
        _verify(world, SignedBundle.parse(back.encode()), newest_seen=_held(fulls[4]))
    assert signature.value.reason == "SIGNATURE"
