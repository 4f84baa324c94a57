"""The registry through its Python bindings on the in-process chain: every write, its views,
and the refusals the issue lists, each decoded to the contract's own error name."""

from __future__ import annotations

import os

import pytest
from eth_account import Account

from ledger.codes import RevocationReason
from ledger.errors import MerkleError, RegistryRefused
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
    anchor = world.registry.anchor_of(tree.root)
    assert anchor is not None
    assert (anchor.issuer_id, anchor.cert_type, anchor.leaf_count) == (
        "ZJ-AMR",
        "BUSINESS_LICENCE",
        1024,
    )
    assert anchor.block_number == result.block_number
    assert anchor.timestamp.tzinfo is not None
    assert result.gas_used / 1024 <= 60
    assert world.registry.anchor_of(os.urandom(32)) is None


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
    before = r.anchor_of(tree.root)
    r.suspend_issuer(world.zj, "ZJ-AMR")
    new_account = Account.create()
    world.chain.fund(new_account.address, 10**18)
    r.rotate_issuer_account(world.zj, "ZJ-AMR", new_account.address)
    new_fp = fingerprint("ZJ-AMR seal 2")
    rotation = r.rotate_seal_certificate(world.zj, "ZJ-AMR", new_fp)
    r.set_issuer_cert_type(world.zj, "ZJ-AMR", "BUSINESS_LICENCE", False)
    assert r.anchor_of(tree.root) == before
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
        world.issuer, tree.root, proof.leaf, proof.siblings, RevocationReason.ISSUED_IN_ERROR
    )
    revocation = r.certificate_revocation(tree.root, proof.leaf)
    assert revocation is not None
    assert revocation.reason is RevocationReason.ISSUED_IN_ERROR
    assert r.certificate_revocation(tree.root, tree.proof(4).leaf) is None
    assert r.root_revocation(tree.root) is None
    r.revoke_root(world.zj, tree.root, RevocationReason.KEY_COMPROMISE)  # by the province
    root_revocation = r.root_revocation(tree.root)
    assert root_revocation is not None
    assert root_revocation.reason is RevocationReason.KEY_COMPROMISE


def test_revocation_refusals(world: World) -> None:
    r = world.registry
    tree = _batch(16)
    r.anchor(world.issuer, tree.root, 16, "BUSINESS_LICENCE")
    proof = tree.proof(0)
    with _refused("CertificateRegistryNotRevoker"):  # someone else's certificate
        r.revoke_certificate(
            world.gd_issuer, tree.root, proof.leaf, proof.siblings, RevocationReason.UNSPECIFIED
        )
    with _refused("CertificateRegistryNotRevoker"):  # another province's authority
        r.revoke_root(world.gd, tree.root, RevocationReason.UNSPECIFIED)
    with _refused("CertificateRegistryLeafNotInRoot"):
        r.revoke_certificate(
            world.issuer, tree.root, os.urandom(32), proof.siblings, RevocationReason.UNSPECIFIED
        )
    with _refused("CertificateRegistryUnknownRoot"):
        r.revoke_root(world.issuer, os.urandom(32), RevocationReason.UNSPECIFIED)
    with _refused("CertificateRegistryInvalidReason"):
        r.revoke_root(world.issuer, tree.root, 0)  # type: ignore[arg-type]
    r.revoke_certificate(
        world.issuer, tree.root, proof.leaf, proof.siblings, RevocationReason.SUPERSEDED
    )
    with _refused("CertificateRegistryAlreadyRevoked"):
        r.revoke_certificate(
            world.zj, tree.root, proof.leaf, proof.siblings, RevocationReason.SUPERSEDED
        )
    r.suspend_issuer(world.zj, "ZJ-AMR")
    with _refused("CertificateRegistryNotRevoker"):  # a suspended issuer can no longer revoke
        r.revoke_root(world.issuer, tree.root, RevocationReason.UNSPECIFIED)


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
