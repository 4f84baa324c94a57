"""The registry through its Python bindings on the in-process chain: every write, its views,
and the refusals the issue lists, each decoded to the contract's own error name."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account

from ledger.codes import RevocationReason
from ledger.errors import InvalidTime, MerkleError, RegistryRefused
from ledger.merkle import MerkleTree
from ledger.records import IssuerStatus
from tests.conftest import World, fingerprint


def _refused(error: str) -> pytest.RaisesExc[RegistryRefused]:
    return pytest.raises(RegistryRefused, match=rf"^{error}\(")


def _batch(n: int = 8) -> MerkleTree:
    return MerkleTree([os.urandom(32) for _ in range(n)])


def test_consortium_views(world: World) -> None:
    r = world.registry
    assert r.admin() == world.admin.address
    assert r.province_codes() == ["ZJ", "GD"]
    zj = r.province("ZJ")
    assert zj is not None
    assert (zj.name, zj.authority) == ("浙江省", world.zj.address)
    assert r.province("JS") is None
    assert r.province_of_authority(world.gd.address) == "GD"
    assert r.province_of_authority(world.outsider.address) is None
    issuer = r.issuer("ZJ-AMR")
    assert issuer is not None
    assert issuer.province == "ZJ"
    assert issuer.status is IssuerStatus.ACTIVE
    assert issuer.cert_types == ("BUSINESS_LICENCE",)
    assert issuer.seal_cert_fingerprint == world.seal_fp
    assert r.issuer("NOPE") is None
    assert r.issuer_ids() == ["ZJ-AMR", "GD-HOSP"]
    assert r.issuer_of_account(world.issuer.address) == "ZJ-AMR"
    assert r.is_authorised("ZJ-AMR", "BUSINESS_LICENCE")
    assert not r.is_authorised("ZJ-AMR", "DEGREE_CERT")


def test_anchor_records_issuer_type_and_time(world: World) -> None:
    tree = _batch(1024)
    result = world.registry.anchor(world.issuer, tree.root, len(tree), "BUSINESS_LICENCE")
    anchor = world.registry.anchor_of("ZJ-AMR", tree.root)
    assert anchor is not None
    assert (anchor.issuer_id, anchor.cert_type, anchor.leaf_count) == (
        "ZJ-AMR",
        "BUSINESS_LICENCE",
        1024,
    )
    assert anchor.block_number == result.block_number
    assert anchor.timestamp.tzinfo is not None
    assert result.gas_used / 1024 <= 60
    assert world.registry.anchor_of("ZJ-AMR", os.urandom(32)) is None


def test_anchor_gas_does_not_depend_on_batch_size(world: World) -> None:
    gas = [
        world.registry.anchor(world.issuer, _batch(n).root, n, "BUSINESS_LICENCE").gas_used
        for n in (1, 16, 65536)
    ]
    assert max(gas) - min(gas) < 200  # only calldata zero/non-zero bytes differ


def test_anchor_refusals(world: World) -> None:
    r = world.registry
    root = _batch().root
    with _refused("CertificateRegistryNotAnIssuer"):
        r.anchor(world.outsider, root, 8, "BUSINESS_LICENCE")
    with _refused("CertificateRegistryCertTypeNotAllowed"):
        r.anchor(world.issuer, root, 8, "DEGREE_CERT")
    with _refused("CertificateRegistryInvalidRoot"):
        r.anchor(world.issuer, bytes(32), 8, "BUSINESS_LICENCE")
    with _refused("CertificateRegistryInvalidLeafCount"):
        r.anchor(world.issuer, root, 0, "BUSINESS_LICENCE")
    with pytest.raises(MerkleError):
        r.anchor(world.issuer, b"\x01" * 31, 8, "BUSINESS_LICENCE")  # malformed root
    r.anchor(world.issuer, root, 8, "BUSINESS_LICENCE")
    with _refused("CertificateRegistryRootAlreadyAnchored"):
        r.anchor(world.issuer, root, 8, "BUSINESS_LICENCE")
    r.suspend_issuer(world.zj, "ZJ-AMR")
    with _refused("CertificateRegistryIssuerNotActive") as caught:
        r.anchor(world.issuer, _batch().root, 8, "BUSINESS_LICENCE")
    assert caught.value.args_by_name["issuerId"] == b"ZJ-AMR".ljust(32, b"\0")


def test_suspension_and_rotation_do_not_rewrite_history(world: World) -> None:
    r = world.registry
    tree = _batch()
    r.anchor(world.issuer, tree.root, len(tree), "BUSINESS_LICENCE")
    before = r.anchor_of("ZJ-AMR", tree.root)
    r.suspend_issuer(world.zj, "ZJ-AMR")
    new_account = Account.create()
    world.chain.fund(new_account.address, 10**18)
    r.rotate_issuer_account(world.zj, "ZJ-AMR", new_account.address)
    new_fp = fingerprint("ZJ-AMR seal 2")
    rotation = r.rotate_seal_certificate(world.zj, "ZJ-AMR", new_fp, world.ca_fp)
    r.set_issuer_cert_type(world.zj, "ZJ-AMR", "BUSINESS_LICENCE", False)
    assert r.anchor_of("ZJ-AMR", tree.root) == before
    old = r.seal_certificate(world.seal_fp)
    assert old is not None
    assert old.until_block == rotation.block_number
    assert before is not None
    assert old.current_at(before.block_number)
    current = r.seal_certificate(new_fp)
    assert current is not None
    assert current.until_block is None
    assert not current.current_at(before.block_number)
    issuer = r.issuer("ZJ-AMR")
    assert issuer is not None
    assert (issuer.status, issuer.account, issuer.cert_types) == (
        IssuerStatus.SUSPENDED,
        new_account.address,
        (),
    )
    r.reactivate_issuer(world.zj, "ZJ-AMR")
    r.set_issuer_cert_type(world.zj, "ZJ-AMR", "BUSINESS_LICENCE", True)
    with _refused("CertificateRegistryNotAnIssuer"):
        r.anchor(world.issuer, _batch().root, 8, "BUSINESS_LICENCE")  # the retired account
    r.anchor(new_account, _batch().root, 8, "BUSINESS_LICENCE")


def test_issuer_management_refusals(world: World) -> None:
    r = world.registry
    with _refused("CertificateRegistryNotProvinceAuthority"):  # an issuer in another province
        r.register_issuer(
            world.zj,
            province="GD",
            issuer_id="GD-FAKE",
            account=world.outsider.address,
            name="冒名",
            seal_cert_fingerprint=fingerprint("fake"),
            ca_fingerprint=world.ca_fp,
            cert_types=[],
        )
    with _refused("CertificateRegistryNotProvinceAuthority"):
        r.suspend_issuer(world.gd, "ZJ-AMR")
    with _refused("CertificateRegistryNotProvinceAuthority"):
        r.suspend_issuer(world.issuer, "ZJ-AMR")
    with _refused("CertificateRegistryUnknownProvince"):
        r.register_issuer(
            world.zj,
            province="JS",
            issuer_id="JS-X",
            account=world.outsider.address,
            name="x",
            seal_cert_fingerprint=fingerprint("x"),
            ca_fingerprint=world.ca_fp,
            cert_types=[],
        )
    with _refused("CertificateRegistryIssuerExists"):
        r.register_issuer(
            world.zj,
            province="ZJ",
            issuer_id="ZJ-AMR",
            account=world.outsider.address,
            name="x",
            seal_cert_fingerprint=fingerprint("x"),
            ca_fingerprint=world.ca_fp,
            cert_types=[],
        )
    with _refused("CertificateRegistryAccountInUse"):
        r.register_issuer(
            world.zj,
            province="ZJ",
            issuer_id="ZJ-EDU",
            account=world.issuer.address,
            name="x",
            seal_cert_fingerprint=fingerprint("x"),
            ca_fingerprint=world.ca_fp,
            cert_types=[],
        )
    with _refused("CertificateRegistryFingerprintInUse"):
        r.register_issuer(
            world.zj,
            province="ZJ",
            issuer_id="ZJ-EDU",
            account=world.outsider.address,
            name="x",
            seal_cert_fingerprint=world.seal_fp,
            ca_fingerprint=world.ca_fp,
            cert_types=[],
        )
    with _refused("CertificateRegistryAccountInUse"):  # an authority cannot be its own issuer
        r.register_issuer(
            world.zj,
            province="ZJ",
            issuer_id="ZJ-SELF",
            account=world.zj.address,
            name="x",
            seal_cert_fingerprint=fingerprint("self"),
            ca_fingerprint=world.ca_fp,
            cert_types=[],
        )
    with _refused("CertificateRegistryIssuerAlreadyActive"):
        r.reactivate_issuer(world.zj, "ZJ-AMR")
    with _refused("CertificateRegistryCertTypeUnchanged"):
        r.set_issuer_cert_type(world.zj, "ZJ-AMR", "BUSINESS_LICENCE", True)
    with _refused("CertificateRegistryUnknownIssuer"):
        r.suspend_issuer(world.zj, "ZJ-NONE")


def test_province_admin_refusals_and_authority_rotation(world: World) -> None:
    r = world.registry
    with _refused("OwnableUnauthorizedAccount"):
        r.admit_province(world.zj, "JS", "江苏省", world.outsider.address)
    with _refused("CertificateRegistryProvinceExists"):
        r.admit_province(world.admin, "ZJ", "浙江省", world.outsider.address)
    with _refused("CertificateRegistryAuthorityInUse"):
        r.admit_province(world.admin, "JS", "江苏省", world.gd.address)
    with _refused("CertificateRegistryNotProvinceAuthority"):
        r.set_province_authority(world.gd, "ZJ", world.outsider.address)
    with _refused("CertificateRegistryNotProvinceAuthority"):  # the admin must propose
        r.set_province_authority(world.admin, "ZJ", world.outsider.address)
    new_authority = Account.create()
    world.chain.fund(new_authority.address, 10**18)
    r.set_province_authority(world.zj, "ZJ", new_authority.address)
    with _refused("CertificateRegistryNotProvinceAuthority"):
        r.suspend_issuer(world.zj, "ZJ-AMR")
    r.suspend_issuer(new_authority, "ZJ-AMR")


def test_revocation_of_a_leaf_and_a_root(world: World) -> None:
    r = world.registry
    tree = _batch(16)
    r.anchor(world.issuer, tree.root, 16, "BUSINESS_LICENCE")
    proof = tree.proof(3)
    r.revoke_certificate(
        world.issuer,
        "ZJ-AMR",
        tree.root,
        proof.leaf,
        proof.siblings,
        RevocationReason.ISSUED_IN_ERROR,
    )
    revocation = r.certificate_revocation("ZJ-AMR", tree.root, proof.leaf)
    assert revocation is not None
    assert revocation.reason is RevocationReason.ISSUED_IN_ERROR
    assert r.certificate_revocation("ZJ-AMR", tree.root, tree.proof(4).leaf) is None
    assert r.root_revocation("ZJ-AMR", tree.root) is None
    r.revoke_root(world.zj, "ZJ-AMR", tree.root, RevocationReason.KEY_COMPROMISE)  # by the province
    root_revocation = r.root_revocation("ZJ-AMR", tree.root)
    assert root_revocation is not None
    assert root_revocation.reason is RevocationReason.KEY_COMPROMISE


def test_revocation_refusals(world: World) -> None:
    r = world.registry
    tree = _batch(16)
    r.anchor(world.issuer, tree.root, 16, "BUSINESS_LICENCE")
    proof = tree.proof(0)
    with _refused("CertificateRegistryNotRevoker"):  # someone else's certificate
        r.revoke_certificate(
            world.gd_issuer,
            "ZJ-AMR",
            tree.root,
            proof.leaf,
            proof.siblings,
            RevocationReason.UNSPECIFIED,
        )
    with _refused("CertificateRegistryNotRevoker"):  # another province's authority
        r.revoke_root(world.gd, "ZJ-AMR", tree.root, RevocationReason.UNSPECIFIED)
    with _refused("CertificateRegistryLeafNotInRoot"):
        r.revoke_certificate(
            world.issuer,
            "ZJ-AMR",
            tree.root,
            os.urandom(32),
            proof.siblings,
            RevocationReason.UNSPECIFIED,
        )
    with _refused("CertificateRegistryUnknownRoot"):
        r.revoke_root(world.issuer, "ZJ-AMR", os.urandom(32), RevocationReason.UNSPECIFIED)
    with _refused("CertificateRegistryInvalidReason"):
        r.revoke_root(world.issuer, "ZJ-AMR", tree.root, 0)  # type: ignore[arg-type]
    r.revoke_certificate(
        world.issuer, "ZJ-AMR", tree.root, proof.leaf, proof.siblings, RevocationReason.SUPERSEDED
    )
    with _refused("CertificateRegistryAlreadyRevoked"):
        r.revoke_certificate(
            world.zj, "ZJ-AMR", tree.root, proof.leaf, proof.siblings, RevocationReason.SUPERSEDED
        )
    r.suspend_issuer(world.zj, "ZJ-AMR")
    with _refused("CertificateRegistryNotRevoker"):  # a suspended issuer can no longer revoke
        r.revoke_root(world.issuer, "ZJ-AMR", tree.root, RevocationReason.UNSPECIFIED)


def test_recognition(world: World) -> None:
    r = world.registry
    assert r.is_recognised("ZJ", "ZJ", "BUSINESS_LICENCE")  # own province
    assert not r.is_recognised("GD", "ZJ", "BUSINESS_LICENCE")
    r.set_recognition(world.gd, "ZJ", "BUSINESS_LICENCE", True)
    assert r.is_recognised("GD", "ZJ", "BUSINESS_LICENCE")
    assert not r.is_recognised("GD", "ZJ", "DEGREE_CERT")
    assert not r.is_recognised("ZJ", "GD", "BUSINESS_LICENCE")  # not symmetric
    r.set_recognition(world.gd, "ZJ", "BUSINESS_LICENCE", False)
    assert not r.is_recognised("GD", "ZJ", "BUSINESS_LICENCE")
    with _refused("CertificateRegistrySelfRecognition"):
        r.set_recognition(world.gd, "GD", "BUSINESS_LICENCE", True)
    with _refused("CertificateRegistryNotProvinceAuthority"):
        r.set_recognition(world.issuer, "ZJ", "BUSINESS_LICENCE", True)
    with _refused("CertificateRegistryUnknownProvince"):
        r.set_recognition(world.gd, "JS", "BUSINESS_LICENCE", True)


def test_admin_role_cannot_be_renounced(world: World) -> None:
    fn = world.registry.contract.functions.renounceOwnership()
    with _refused("CertificateRegistryRenounceDisabled"):
        world.chain.transact(fn, world.admin)


def test_admin_hand_over_is_two_step(world: World) -> None:
    r = world.registry
    r.transfer_admin(world.admin, world.outsider.address)
    assert r.admin() == world.admin.address
    r.accept_admin(world.outsider)
    assert r.admin() == world.outsider.address


def _second_licence_issuer(world: World) -> Account:
    """ZJ-COPY: another ZJ department allowed business licences (the would-be front-runner)."""
    account = Account.create()
    world.chain.fund(account.address, 10**18)
    world.registry.register_issuer(
        world.zj,
        province="ZJ",
        issuer_id="ZJ-COPY",
        account=account.address,
        name="x",
        seal_cert_fingerprint=fingerprint("copy"),
        ca_fingerprint=world.ca_fp,
        cert_types=["BUSINESS_LICENCE"],
    )
    return account


def test_a_copied_root_is_the_copiers_own_anchor(world: World) -> None:
    r = world.registry
    copier = _second_licence_issuer(world)
    tree = _batch(16)
    r.anchor(copier, tree.root, 1, "BUSINESS_LICENCE")  # mined first
    assert r.anchor_of("ZJ-AMR", tree.root) is None
    r.anchor(world.issuer, tree.root, 16, "BUSINESS_LICENCE")
    ours, theirs = r.anchor_of("ZJ-AMR", tree.root), r.anchor_of("ZJ-COPY", tree.root)
    assert ours is not None
    assert theirs is not None
    assert (ours.issuer_id, ours.leaf_count, theirs.issuer_id, theirs.leaf_count) == (
        "ZJ-AMR",
        16,
        "ZJ-COPY",
        1,
    )
    r.revoke_root(world.zj, "ZJ-COPY", tree.root, RevocationReason.ISSUED_IN_ERROR)
    assert r.root_revocation("ZJ-AMR", tree.root) is None
    proof = tree.proof(2)
    with _refused("CertificateRegistryNotRevoker"):
        r.revoke_certificate(
            copier, "ZJ-AMR", tree.root, proof.leaf, proof.siblings, RevocationReason.UNSPECIFIED
        )


def test_seal_certificates_record_their_ca(world: World) -> None:
    r = world.registry
    seal = r.seal_certificate(world.seal_fp)
    assert seal is not None
    assert (seal.issuer_id, seal.ca_fingerprint) == ("ZJ-AMR", world.ca_fp)
    renewed_ca = fingerprint("ZJ CA 2")
    r.rotate_seal_certificate(world.zj, "ZJ-AMR", fingerprint("ZJ-AMR seal 2"), renewed_ca)
    rotated = r.seal_certificate(fingerprint("ZJ-AMR seal 2"))
    assert rotated is not None
    assert rotated.ca_fingerprint == renewed_ca
    with _refused("CertificateRegistryInvalidFingerprint"):
        r.rotate_seal_certificate(world.zj, "ZJ-AMR", fingerprint("ZJ-AMR seal 3"), bytes(32))


def test_seal_revocation_moves_only_earlier(world: World) -> None:
    r = world.registry
    at = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    assert r.seal_revocation(world.seal_fp) is None
    sent = r.revoke_seal_certificate(
        world.zj, "ZJ-AMR", world.seal_fp, at, RevocationReason.SUPERSEDED
    )
    revocation = r.seal_revocation(world.seal_fp)
    assert revocation is not None
    assert (revocation.issuer_id, revocation.effective_from, revocation.reason) == (
        "ZJ-AMR",
        at,
        RevocationReason.SUPERSEDED,
    )
    assert revocation.block_number == sent.block_number
    assert revocation.invalidates(at)
    assert not revocation.invalidates(at - timedelta(seconds=1))
    with _refused("CertificateRegistryEffectiveTimeNotEarlier"):
        r.revoke_seal_certificate(
            world.zj, "ZJ-AMR", world.seal_fp, at, RevocationReason.KEY_COMPROMISE
        )
    earlier = at - timedelta(days=2)
    r.revoke_seal_certificate(
        world.zj, "ZJ-AMR", world.seal_fp, earlier, RevocationReason.KEY_COMPROMISE
    )
    revocation = r.seal_revocation(world.seal_fp)
    assert revocation is not None
    assert (revocation.effective_from, revocation.reason) == (
        earlier,
        RevocationReason.KEY_COMPROMISE,
    )


def test_seal_revocation_refusals(world: World) -> None:
    r = world.registry
    at = datetime(2027, 3, 1, tzinfo=UTC)
    reason = RevocationReason.KEY_COMPROMISE
    with _refused("CertificateRegistryNotProvinceAuthority"):
        r.revoke_seal_certificate(world.gd, "ZJ-AMR", world.seal_fp, at, reason)
    with _refused("CertificateRegistryNotProvinceAuthority"):
        r.revoke_seal_certificate(world.issuer, "ZJ-AMR", world.seal_fp, at, reason)
    with _refused("CertificateRegistryUnknownSealCertificate"):  # GD-HOSP's seal, as ZJ-AMR's
        r.revoke_seal_certificate(world.zj, "ZJ-AMR", fingerprint("GD-HOSP seal"), at, reason)
    with _refused("CertificateRegistryInvalidReason"):
        r.revoke_seal_certificate(world.zj, "ZJ-AMR", world.seal_fp, at, 9)  # type: ignore[arg-type]
    with pytest.raises(InvalidTime):  # naive: which time zone would it be?
        r.revoke_seal_certificate(world.zj, "ZJ-AMR", world.seal_fp, datetime(2027, 3, 1), reason)  # noqa: DTZ001
    with pytest.raises(InvalidTime):
        r.revoke_seal_certificate(
            world.zj, "ZJ-AMR", world.seal_fp, datetime(1970, 1, 1, tzinfo=UTC), reason
        )
    assert r.seal_revocation(world.seal_fp) is None


def test_ca_distrust(world: World) -> None:
    r = world.registry
    at = datetime(2027, 6, 1, tzinfo=UTC)
    assert r.ca_distrust(world.ca_fp) is None
    with _refused("OwnableUnauthorizedAccount"):
        r.distrust_province_ca(world.zj, "ZJ", world.ca_fp, at, RevocationReason.KEY_COMPROMISE)
    with _refused("CertificateRegistryUnknownProvince"):
        r.distrust_province_ca(world.admin, "JS", world.ca_fp, at, RevocationReason.KEY_COMPROMISE)
    r.distrust_province_ca(world.admin, "ZJ", world.ca_fp, at, RevocationReason.KEY_COMPROMISE)
    distrust = r.ca_distrust(world.ca_fp)
    assert distrust is not None
    assert (distrust.province, distrust.effective_from, distrust.reason) == (
        "ZJ",
        at,
        RevocationReason.KEY_COMPROMISE,
    )
    with _refused("CertificateRegistryEffectiveTimeNotEarlier"):
        r.distrust_province_ca(
            world.admin, "ZJ", world.ca_fp, at + timedelta(hours=1), RevocationReason.UNSPECIFIED
        )
    with _refused("CertificateRegistryCaOfAnotherProvince"):
        r.distrust_province_ca(
            world.admin, "GD", world.ca_fp, at - timedelta(hours=1), RevocationReason.UNSPECIFIED
        )
    assert r.ca_distrust(world.gd_ca_fp) is None


def test_authority_replacement_needs_consent_or_the_delay(world: World) -> None:
    r = world.registry
    tester = world.chain.w3.provider.ethereum_tester  # type: ignore[attr-defined]
    assert r.authority_change_delay() == timedelta(days=7)
    first, second = Account.create(), Account.create()
    with _refused("OwnableUnauthorizedAccount"):
        r.propose_province_authority(world.zj, "ZJ", first.address)
    sent = r.propose_province_authority(world.admin, "ZJ", first.address)
    proposal = r.pending_province_authority("ZJ")
    assert proposal is not None
    proposed_at = world.chain.block(sent.block_number)["timestamp"]
    assert (proposal.account, proposal.executable_at) == (
        first.address,
        datetime.fromtimestamp(proposed_at, UTC) + timedelta(days=7),
    )
    assert r.pending_province_authority("GD") is None
    with _refused("CertificateRegistryAuthorityProposalNotReady"):
        r.execute_province_authority(world.admin, "ZJ")
    with _refused("CertificateRegistryAuthorityProposalMismatch"):
        r.accept_province_authority(world.zj, "ZJ", second.address)
    r.accept_province_authority(world.zj, "ZJ", first.address)  # consent: at once
    assert r.province_of_authority(first.address) == "ZJ"
    assert r.pending_province_authority("ZJ") is None

    r.propose_province_authority(world.admin, "GD", second.address)
    tester.time_travel(int(tester.get_block_by_number("latest")["timestamp"]) + 7 * 86_400)
    r.execute_province_authority(world.admin, "GD")  # no consent, after the delay
    assert r.province_of_authority(second.address) == "GD"
    with _refused("CertificateRegistryNoAuthorityProposal"):
        r.cancel_province_authority(world.admin, "GD")
