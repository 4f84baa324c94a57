"""Trust bundles: built from the registry index, signed by province authorities with BLS,
aggregated, verified with a quorum, loaded into a fresh index that answers as the registry did.
Every way a bundle must be refused is refused with its reason."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest

from ledger import bls
from ledger.bundle import (
    JSON_FORMAT,
    MAGIC,
    AnyBundle,
    BundleRejected,
    LegacyBundle,
    SignedBundle,
    TrustBundle,
    aggregate_signatures,
    sign_bundle,
    verify_bundle,
)
from ledger.codes import RevocationReason
from ledger.index import RegistryIndex
from ledger.merkle import MerkleTree
from tests.conftest import World

# Fixed secrets keep the (slow, pure-Python) key generation out of the tests.
SECRETS = {"ZJ": 11_111, "GD": 22_222, "JS": 33_333}


@pytest.fixture
def consortium(world: World) -> tuple[World, dict[str, bytes]]:
    """ZJ, GD and JS (authority: the outsider account), each with a published bundle key."""
    world.registry.admit_province(world.admin, "JS", "江苏省", world.outsider.address)
    for code, sender in (("ZJ", world.zj), ("GD", world.gd), ("JS", world.outsider)):
        secret = SECRETS[code]
        world.registry.set_bundle_key(sender, bls.public_key(secret), bls.prove_possession(secret))
    return world, {code: bls.public_key(s) for code, s in SECRETS.items()}


def _index(world: World, path: Path | str = ":memory:") -> RegistryIndex:
    index = RegistryIndex(
        path, registry_address=world.registry.address, start_block=world.deployed.block_number
    )
    index.sync(world.registry)
    return index


def _signed(bundle: AnyBundle, codes: list[str]) -> SignedBundle:
    return aggregate_signatures(bundle, [sign_bundle(bundle, c, SECRETS[c]) for c in codes])


def _verify(world: World, signed: SignedBundle, **overrides: object) -> None:
    arguments: dict[str, object] = {
        "registry": world.registry.address,
        "chain_id": world.chain.chain_id,
        "provinces": ["ZJ", "GD", "JS"],
        "keys": {code: bls.public_key(s) for code, s in SECRETS.items()},
    }
    arguments.update(overrides)
    verify_bundle(signed, **arguments)  # type: ignore[arg-type]


def test_bundle_round_trip_answers_like_the_registry(
    consortium: tuple[World, dict[str, bytes]], tmp_path: Path
) -> None:
    world, keys = consortium
    r = world.registry
    tree = MerkleTree([os.urandom(32) for _ in range(8)])
    r.anchor(world.issuer, tree.root, 8, "BUSINESS_LICENCE")
    proof = tree.proof(3)
    r.revoke_certificate(
        world.issuer,
        "ZJ-AMR",
        tree.root,
        proof.leaf,
        proof.siblings,
        RevocationReason.KEY_COMPROMISE,
    )
    r.set_recognition(world.gd, "ZJ", "BUSINESS_LICENCE", True)
    at = datetime(2027, 1, 1, tzinfo=UTC)
    r.revoke_seal_certificate(
        world.zj, "ZJ-AMR", world.seal_fp, at, RevocationReason.KEY_COMPROMISE
    )
    r.distrust_province_ca(world.admin, "GD", world.gd_ca_fp, at, RevocationReason.KEY_COMPROMISE)
    source = _index(world, tmp_path / "live.sqlite")
    assert {c: k for c, (k, _p) in source.bundle_keys().items()} == keys
    assert bls.verified_keys(source.bundle_keys()) == keys

    bundle = TrustBundle.from_index(source, world.chain.chain_id)
    signed = _signed(bundle, ["GD", "JS", "ZJ"])
    assert signed.signers == ("GD", "JS", "ZJ")
    signed.save(tmp_path / "bundle.json")
    loaded = SignedBundle.load(tmp_path / "bundle.json")
    assert loaded.bundle.digest() == bundle.digest()
    _verify(world, loaded)

    offline = RegistryIndex(tmp_path / "offline.sqlite", registry_address=r.address)
    loaded.bundle.load_into(offline)
    assert offline.freshness().block == source.freshness().block
    assert offline.freshness().synced_at == bundle.as_of
    for name in ("ZJ-AMR", "GD-HOSP"):
        assert offline.issuer(name) == source.issuer(name)
        assert offline.issuer_history(name) == source.issuer_history(name)
    assert offline.anchor_of("ZJ-AMR", tree.root) == source.anchor_of("ZJ-AMR", tree.root)
    assert offline.anchor_of("ZJ-AMR", tree.root) is not None
    assert offline.certificate_revocation(
        "ZJ-AMR", tree.root, proof.leaf
    ) == r.certificate_revocation("ZJ-AMR", tree.root, proof.leaf)
    assert offline.seal_certificate(world.seal_fp) == source.seal_certificate(world.seal_fp)
    anchored = source.anchor_of("ZJ-AMR", tree.root)
    assert anchored is not None
    assert offline.seal_certificate_at(
        "ZJ-AMR", anchored.block_number
    ) == source.seal_certificate_at("ZJ-AMR", anchored.block_number)
    assert offline.seal_revocation(world.seal_fp) == r.seal_revocation(world.seal_fp)
    assert offline.seal_revocation(world.seal_fp) is not None
    assert offline.ca_distrust(world.gd_ca_fp) == r.ca_distrust(world.gd_ca_fp)
    assert offline.ca_distrust(world.gd_ca_fp) is not None
    assert offline.recognitions() == source.recognitions() == [("GD", "ZJ", "BUSINESS_LICENCE")]
    assert offline.provinces() == source.provinces()


def test_quorum_is_more_than_two_thirds_of_all_provinces(
    consortium: tuple[World, dict[str, bytes]],
) -> None:
    world, _keys = consortium
    bundle = TrustBundle.from_index(_index(world), world.chain.chain_id)
    everyone = _signed(bundle, ["GD", "JS", "ZJ"])
    _verify(world, everyone)
    for too_few in (["GD", "ZJ"], ["ZJ"]):  # 2 of 3 is not more than two thirds
        with pytest.raises(BundleRejected) as refused:
            _verify(world, _signed(bundle, too_few))
        assert refused.value.reason == "QUORUM"
    _verify(world, everyone, provinces=["ZJ", "GD", "JS", "SH"])  # 3 of 4 is
    _verify(world, _signed(bundle, ["ZJ"]), quorum=Fraction(1, 4))  # a configured quorum


def test_altered_bundle_foreign_key_wrong_registry_replay_are_refused(
    consortium: tuple[World, dict[str, bytes]],
) -> None:
    world, keys = consortium
    index = _index(world)
    bundle = TrustBundle.from_index(index, world.chain.chain_id)
    signed = _signed(bundle, ["GD", "JS", "ZJ"])

    # Altered after signing: an issuer's status flipped back to active, in the file's bytes.
    tables = {k: [list(r) for r in v] for k, v in bundle.tables.items()}
    tables["issuers"][0][4] = "SUSPENDED" if tables["issuers"][0][4] == "ACTIVE" else "ACTIVE"
    flipped = TrustBundle.from_tables(bundle.checkpoint, tables)
    encoded = signed.encode()
    assert encoded.endswith(bundle.state)
    tampered = encoded[: -len(bundle.state)] + flipped.state
    altered = SignedBundle.parse(tampered)
    assert altered.bundle.block == bundle.block
    with pytest.raises(BundleRejected) as changed:
        _verify(world, altered)
    assert changed.value.reason == "SIGNATURE"
    later = replace(bundle, block_time=bundle.block_time + 1)  # the header, not the tables
    with pytest.raises(BundleRejected) as moved:
        _verify(world, replace(signed, bundle=later))
    assert moved.value.reason == "SIGNATURE"

    # Signed by a key that is not a province authority's.
    stranger = 99_999
    forged = aggregate_signatures(
        bundle,
        [
            sign_bundle(bundle, "ZJ", SECRETS["ZJ"]),
            sign_bundle(bundle, "GD", SECRETS["GD"]),
            sign_bundle(bundle, "JS", stranger),
        ],
    )
    with pytest.raises(BundleRejected) as foreign:
        _verify(world, forged)
    assert foreign.value.reason == "SIGNATURE"
    with pytest.raises(BundleRejected) as unknown:
        _verify(world, _signed(bundle, ["GD", "JS", "ZJ"]), keys={"ZJ": keys["ZJ"]})
    assert unknown.value.reason == "UNKNOWN_SIGNER"

    with pytest.raises(BundleRejected) as elsewhere:
        _verify(world, signed, chain_id=world.chain.chain_id + 1)
    assert elsewhere.value.reason == "REGISTRY"

    # An old bundle replayed after a newer one was accepted.
    world.registry.suspend_issuer(world.gd, "GD-HOSP")
    index.sync(world.registry)
    newer = _signed(TrustBundle.from_index(index, world.chain.chain_id), ["GD", "JS", "ZJ"])
    _verify(world, newer)
    seen = (newer.bundle.block, newer.bundle.digest())
    with pytest.raises(BundleRejected) as replayed:
        _verify(world, signed, newest_seen=seen)
    assert replayed.value.reason == "STALE"
    _verify(world, newer, newest_seen=seen)  # fetching the same one again is fine


def test_proofs_of_possession_are_checked() -> None:
    good = bls.public_key(SECRETS["ZJ"])
    published = {
        "ZJ": (good, bls.prove_possession(SECRETS["ZJ"])),
        "GD": (bls.public_key(SECRETS["GD"]), bls.prove_possession(SECRETS["JS"])),
        "JS": (b"\x01" * 48, b"\x02" * 96),
    }
    assert bls.verified_keys(published) == {"ZJ": good}


def test_malformed_bundles_are_format_errors(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    other = '{"bundle": {"format": "other"}, "signers": [], "signature": ""}'
    # Registry v1's bundles (anchors keyed by root alone) do not fit this index.
    v1 = '{"bundle": {"format": "ecert-trust-bundle/1"}, "signers": [], "signature": ""}'
    for text in ("not json", "{}", other, v1, "ECTB\x03F", "ECTB\x03X" + "0" * 80):
        path.write_text(text)
        with pytest.raises(BundleRejected) as bad:
            SignedBundle.load(path)
        assert bad.value.reason == "FORMAT"


def _json_signed(bundle: TrustBundle, codes: list[str]) -> SignedBundle:
    """What a province signed before format 3: canonical JSON, BLOB cells as hex."""
    body = {
        "format": JSON_FORMAT,
        "registry": bundle.registry,
        "chain_id": bundle.chain_id,
        "block": bundle.block,
        "block_hash": bundle.block_hash,
        "block_time": bundle.block_time,
        "tables": {
            t: [[c.hex() if isinstance(c, bytes) else c for c in r] for r in rows]
            for t, rows in bundle.tables.items()
        },
    }
    legacy = LegacyBundle.from_body(body)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert (
        legacy.message() == b"ecert-trust-bundle/2\n" + hashlib.sha256(canonical.encode()).digest()
    )
    return aggregate_signatures(legacy, [sign_bundle(legacy, c, SECRETS[c]) for c in codes])


def test_format_2_json_bundles_are_still_accepted_as_the_same_state(
    consortium: tuple[World, dict[str, bytes]], tmp_path: Path
) -> None:
    world, _keys = consortium
    source = _index(world)
    bundle = TrustBundle.from_index(source, world.chain.chain_id)
    old = _json_signed(bundle, ["GD", "JS", "ZJ"])
    old.save(tmp_path / "old.json")
    assert (tmp_path / "old.json").read_bytes().startswith(b"{")
    loaded = SignedBundle.load(tmp_path / "old.json")
    assert isinstance(loaded.bundle, LegacyBundle)
    _verify(world, loaded)
    # The same state in format 3: one identity, so neither is an equivocation of the other.
    assert loaded.bundle.identity() == bundle.identity()
    _verify(
        world,
        _signed(bundle, ["GD", "JS", "ZJ"]),
        newest_seen=(bundle.block, loaded.bundle.identity()),
    )
    offline = RegistryIndex(":memory:", registry_address=world.registry.address)
    loaded.bundle.load_into(offline)
    assert offline.export_tables() == source.export_tables()
    # Signed as JSON, checked as JSON: one changed cell breaks it.
    raw = json.loads((tmp_path / "old.json").read_text())
    raw["bundle"]["tables"]["provinces"][0][1] = "江苏"
    with pytest.raises(BundleRejected) as altered:
        _verify(world, SignedBundle.from_json(raw))
    assert altered.value.reason == "SIGNATURE"


def test_binary_bundle_is_smaller_than_the_json_and_round_trips(
    consortium: tuple[World, dict[str, bytes]], tmp_path: Path
) -> None:
    world, _keys = consortium
    bundle = TrustBundle.from_index(_index(world), world.chain.chain_id)
    signed = _signed(bundle, ["GD", "JS", "ZJ"])
    signed.save(tmp_path / "b.ecb")
    data = (tmp_path / "b.ecb").read_bytes()
    assert data.startswith(MAGIC)
    again = SignedBundle.parse(data)
    assert again.encode() == data
    assert again.bundle.digest() == bundle.digest()
    assert again.signers == signed.signers
    assert again.signature == signed.signature
    # (Under half at scale, where the string table and fixed-width columns pay off: the bench.)
    assert len(data) < len(_json_signed(bundle, ["GD", "JS", "ZJ"]).encode())
    shown = signed.to_json()
    assert shown["bundle"]["digest"] == bundle.digest().hex()
    assert shown["bundle"]["tables"]["issuers"][0][0] == "GD-HOSP"
