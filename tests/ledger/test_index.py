"""The event index mirrors the contract: what it answers equals what the node answers."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_account import Account

from ledger.chain import Chain
from ledger.codes import RevocationReason
from ledger.index import SCHEMA_VERSION, RegistryIndex
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
        world.issuer, "ZJ-AMR", tree.root, proof.leaf, proof.siblings, RevocationReason.SUPERSEDED
    )
    other = MerkleTree([os.urandom(32)])
    r.anchor(world.gd_issuer, other.root, 1, "BIRTH_MEDICAL")
    r.revoke_root(world.gd, "GD-HOSP", other.root, RevocationReason.ISSUED_IN_ERROR)
    # A copier: GD-HOSP may not issue licences, so a second ZJ issuer copies ZJ-AMR's root.
    copier = Account.create()
    world.chain.fund(copier.address, 10**18)
    r.register_issuer(
        world.zj,
        province="ZJ",
        issuer_id="ZJ-COPY",
        account=copier.address,
        name="x",
        seal_cert_fingerprint=fingerprint("copy"),
        ca_fingerprint=world.ca_fp,
        cert_types=["BUSINESS_LICENCE"],
    )
    r.anchor(copier, tree.root, 2, "BUSINESS_LICENCE")
    r.revoke_root(world.zj, "ZJ-COPY", tree.root, RevocationReason.ISSUED_IN_ERROR)
    r.set_recognition(world.gd, "ZJ", "BUSINESS_LICENCE", True)
    new_fp = fingerprint("ZJ-AMR seal 2")
    r.rotate_seal_certificate(world.zj, "ZJ-AMR", new_fp, fingerprint("ZJ CA 2"))
    at = datetime(2027, 1, 1, tzinfo=UTC)
    r.revoke_seal_certificate(world.zj, "ZJ-AMR", world.seal_fp, at, RevocationReason.SUPERSEDED)
    earlier = at.replace(year=2026)  # the compromise started earlier: the index keeps the latest
    r.revoke_seal_certificate(
        world.zj, "ZJ-AMR", world.seal_fp, earlier, RevocationReason.KEY_COMPROMISE
    )
    r.distrust_province_ca(world.admin, "GD", world.gd_ca_fp, at, RevocationReason.KEY_COMPROMISE)
    r.suspend_issuer(world.gd, "GD-HOSP")

    index = _index(world, tmp_path / "index.sqlite")
    result = index.sync(r)
    assert result.events == index.event_count() > 10
    assert index.freshness().block == world.chain.block_number()
    for issuer_id in ("ZJ-AMR", "GD-HOSP", "ZJ-COPY"):
        for root in (tree.root, other.root):
            assert index.anchor_of(issuer_id, root) == r.anchor_of(issuer_id, root)
            assert index.root_revocation(issuer_id, root) == r.root_revocation(issuer_id, root)
            for leaf in (proof.leaf, tree.proof(1).leaf):
                assert index.certificate_revocation(
                    issuer_id, root, leaf
                ) == r.certificate_revocation(issuer_id, root, leaf)
    assert index.anchor_of("ZJ-COPY", tree.root) is not None
    assert index.root_revocation("ZJ-AMR", tree.root) is None
    assert index.certificate_revocation("ZJ-AMR", tree.root, proof.leaf) is not None
    assert index.anchor_count() == 3
    for issuer_id in ("ZJ-AMR", "GD-HOSP"):
        assert index.issuer(issuer_id) == r.issuer(issuer_id)
        assert index.is_authorised(issuer_id, "BUSINESS_LICENCE") == r.is_authorised(
            issuer_id, "BUSINESS_LICENCE"
        )
    for fp in (world.seal_fp, new_fp, fingerprint("GD-HOSP seal"), fingerprint("unknown")):
        assert index.seal_certificate(fp) == r.seal_certificate(fp)
        assert index.seal_revocation(fp) == r.seal_revocation(fp)
    revoked = index.seal_revocation(world.seal_fp)
    assert revoked is not None
    assert (revoked.effective_from, revoked.reason) == (earlier, RevocationReason.KEY_COMPROMISE)
    for ca in (world.ca_fp, world.gd_ca_fp, fingerprint("ZJ CA 2")):
        assert index.ca_distrust(ca) == r.ca_distrust(ca)
    assert index.ca_distrust(world.gd_ca_fp) is not None
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
    assert "SEAL_REVOKED" in [c for _, c, _ in index.issuer_history("ZJ-AMR")]
    index.close()

    reopened = _index(world, tmp_path / "index.sqlite")  # persisted: no node needed to answer
    assert reopened.anchor_of("ZJ-AMR", tree.root) == r.anchor_of("ZJ-AMR", tree.root)
    assert reopened.sync(r).events == 0


def test_seal_certificate_at_a_block_follows_rotations(world: World) -> None:
    r = world.registry
    index = _index(world)
    index.sync(r)
    first = index.seal_certificate(world.seal_fp)
    assert first is not None
    registered = first.from_block
    rotated = r.rotate_seal_certificate(
        world.zj, "ZJ-AMR", fingerprint("seal 2"), fingerprint("ZJ CA 2")
    ).block_number
    again = r.rotate_seal_certificate(
        world.zj, "ZJ-AMR", fingerprint("seal 3"), fingerprint("ZJ CA 2")
    ).block_number
    index.sync(r)
    expected = {
        registered - 1: None,  # before the issuer existed
        registered: world.seal_fp,
        rotated - 1: world.seal_fp,
        rotated: fingerprint("seal 2"),  # the rotation's block belongs to the new seal
        again - 1: fingerprint("seal 2"),
        again: fingerprint("seal 3"),
        again + 100: fingerprint("seal 3"),  # current: no end yet
    }
    for block, fp in expected.items():
        found = index.seal_certificate_at("ZJ-AMR", block)
        assert (found.fingerprint if found else None) == fp, block
        if found is not None:
            assert found == r.seal_certificate(found.fingerprint)
    second = index.seal_certificate_at("ZJ-AMR", rotated)
    assert second is not None
    assert second.ca_fingerprint == fingerprint("ZJ CA 2")
    assert index.seal_certificate_at("GD-HOSP", rotated) == r.seal_certificate(
        fingerprint("GD-HOSP seal")
    )
    assert index.seal_certificate_at("NOBODY", rotated) is None


def test_an_index_of_an_older_shape_is_rebuilt(world: World, tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as old:  # registry v1: anchors keyed by root alone
        old.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('registry_address', '0x" + "12" * 20 + "');"
            "INSERT INTO meta VALUES ('last_block', '99');"
            "CREATE TABLE anchors (root BLOB PRIMARY KEY, issuer_id TEXT NOT NULL);"
        )
    index = _index(world, path)  # neither the old shape nor the old registry stops it
    assert index.freshness().block == -1
    index.sync(world.registry)
    assert index.issuer("ZJ-AMR") is not None
    index.close()
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert row == (SCHEMA_VERSION,)


def test_incremental_sync_picks_up_only_new_events(world: World) -> None:
    index = _index(world)
    first = index.sync(world.registry)
    tree = MerkleTree([os.urandom(32) for _ in range(4)])
    assert index.anchor_of("ZJ-AMR", tree.root) is None
    world.registry.anchor(world.issuer, tree.root, 4, "BUSINESS_LICENCE")
    second = index.sync(world.registry)
    assert second.from_block == first.to_block + 1
    assert second.events == 1
    assert index.anchor_of("ZJ-AMR", tree.root) is not None


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
