"""The compact presentation layout and what it is built from, without a chain: QR alphanumeric
text, claims multiproofs, 64-byte signatures, per-certificate holder keys; sizes within the
issue's bounds from a 1,024-certificate batch, a real QR image read back by zxing-cpp, the old
layout refused, and two certificates of one wallet sharing no byte string of 8 bytes."""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations

import pytest
import zxingcpp
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from cli.holder import presentation_qr
from issuer.samples import department_id, sample_record
from ledger.claims import ClaimsCommitment
from ledger.errors import MerkleError
from ledger.holderkey import (
    HolderKeyError,
    certificate_holder_account,
    certificate_holder_address,
    check_holder_key,
    holder_account_for,
    holder_public_key,
)
from ledger.leaf import CertificateLeaf
from ledger.merkle import MerkleTree, multiproof_size, process_multiproof
from ledger.personal_sign import (
    SignatureError,
    compact_signature,
    expand_signature,
    recover_signer,
)
from ledger.presentation import (
    HOLDER_CLAIM,
    LAYOUT,
    Presentation,
    PresentationError,
    PresentationOutdated,
    build_presentation,
    is_presentation,
)
from ledger.proofrecord import ProofRecord
from ledger.qrtext import ALPHABET, QrTextError, from_qr_text, to_qr_text

NOW = datetime.now(UTC).replace(microsecond=0)
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def test_qr_text_round_trips_in_the_qr_alphanumeric_set() -> None:
    rng = random.Random(7)
    assert set(ALPHABET) <= QR_ALPHANUMERIC
    assert not set(ALPHABET) & set(" $%*")
    for size in [*range(12), 255, 1001]:
        raw = bytes(rng.randrange(256) for _ in range(size))
        text = to_qr_text(raw)
        assert len(text) == 3 * (size // 2) + 2 * (size % 2)
        assert from_qr_text(text) == raw
    for bad in ("A", "ABCD", "abc", "A B", ":::", "::"):
        with pytest.raises(QrTextError):
            from_qr_text(bad)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 9, 13, 17])
def test_a_multiproof_proves_any_set_of_leaves(size: int) -> None:
    leaves = [hashlib.sha256(bytes([size, n])).digest() for n in range(size)]
    tree = MerkleTree(leaves)
    picks = [c for k in (1, 2, 3) for c in combinations(range(size), k)] + [tuple(range(size))]
    for positions in picks:
        hashes = tree.multiproof(positions)
        assert len(hashes) == multiproof_size(size, positions)
        assert len(hashes) <= sum(len(tree.proof(p).siblings) for p in positions)
        known = {p: leaves[p] for p in positions}
        assert process_multiproof(size, known, hashes) == tree.root
    hashes = tree.multiproof([0])
    with pytest.raises(MerkleError):
        process_multiproof(size, {0: leaves[0]}, (*hashes, leaves[0]))
    if hashes:
        with pytest.raises(MerkleError):
            process_multiproof(size, {0: leaves[0]}, hashes[:-1])
        wrong = {0: hashlib.sha256(b"not a leaf").digest()}
        assert process_multiproof(size, wrong, hashes) != tree.root
    for positions in ([], [size], [0, 0]):
        with pytest.raises(MerkleError):
            multiproof_size(size, positions)


def test_a_64_byte_signature_recovers_the_signer() -> None:
    for _ in range(20):
        account = Account.create()
        message = os.urandom(40)
        full = bytes(account.sign_message(encode_defunct(primitive=message)).signature)
        compact = compact_signature(full)
        assert len(compact) == 64
        assert expand_signature(compact) == full
        assert recover_signer(message, expand_signature(compact)) == account.address
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = full[:32] + (n - int.from_bytes(full[32:64], "big")).to_bytes(32, "big") + full[64:]
    with pytest.raises(SignatureError):
        compact_signature(high_s)


def test_each_certificate_gets_its_own_holder_account() -> None:
    wallet = Account.create()
    key = holder_public_key(wallet)
    assert len(bytes.fromhex(key[2:])) == 33
    check_holder_key(key)
    secrets = [os.urandom(32) for _ in range(5)]
    addresses = [certificate_holder_address(key, s) for s in secrets]
    assert len(set(addresses) | {wallet.address}) == 6  # all different, none the wallet's
    for secret, address in zip(secrets, addresses, strict=True):
        assert certificate_holder_account(wallet, secret).address == address
        assert holder_account_for(wallet, address, secret) is not None
        assert holder_account_for(Account.create(), address, secret) is None
    # An account given instead of a key (wallets before) is committed as it is.
    assert certificate_holder_address(wallet.address.lower(), secrets[0]) == wallet.address
    assert holder_account_for(wallet, wallet.address, secrets[0]) == wallet
    for bad in ("0x1234", "0x" + "00" * 33, "not hex", "0x04" + "11" * 32):
        with pytest.raises(HolderKeyError):
            check_holder_key(bad)


@dataclass
class Certificate:
    record: ProofRecord
    claims: dict[str, str]
    secret: bytes


def _certificate(
    wallet: LocalAccount,
    *,
    issuer: str = department_id("330000", "MB0000011"),
    cert_type: str = "BUSINESS_LICENCE",
    number: str = "2026BL00000042",
    version: int = 2,
    batch: int = 1024,
    seed: int = 3,
) -> Certificate:
    secret = os.urandom(32)
    claims = sample_record(cert_type, random.Random(seed))
    claims[HOLDER_CLAIM] = certificate_holder_address(holder_public_key(wallet), secret)
    leaf = CertificateLeaf(
        issuer,
        cert_type,
        number,
        ClaimsCommitment(claims, secret).root,
        os.urandom(32),
        NOW - timedelta(days=seed),
        NOW + timedelta(days=365 + seed),
        version,
        os.urandom(32) if version == 3 else None,
    )
    at = random.Random(seed).randrange(batch)
    leaves = [os.urandom(32) for _ in range(batch)]
    leaves[at] = leaf.hash()
    tree = MerkleTree(leaves)
    record = ProofRecord(
        issuer, cert_type, number, leaf.claims_commitment, leaf.document_digest,
        leaf.valid_from, leaf.valid_until, tree.root, tree.proof(at).siblings, at, 7,
        version, leaf.ofd_digest,
    )  # fmt: skip
    return Certificate(record, claims, secret)


def _present(cert: Certificate, fields: list[str], wallet: LocalAccount) -> Presentation:
    return build_presentation(
        cert.record,
        cert.claims,
        cert.secret,
        fields,
        wallet,
        expires_at=NOW + timedelta(minutes=5),
        nonce=os.urandom(16),
    )


@pytest.mark.parametrize("version", [2, 3])
def test_sizes_from_a_1024_batch_and_the_round_trip(version: int) -> None:
    wallet = Account.create()
    cert = _certificate(wallet, version=version)
    every = [k for k in cert.claims if k != HOLDER_CLAIM]
    bounds = {1: 700, 2: 700, 4: 1000, 8: 2953}  # 8: any QR code at all (version 40, L)
    for count, limit in bounds.items():
        shown = _present(cert, (["name", "uscc"] if count == 2 else every)[:count], wallet)
        text = shown.encode()
        assert is_presentation(text)
        assert set(text) <= QR_ALPHANUMERIC
        assert len(shown.raw()) <= limit + (32 if version == 3 else 0), count
        decoded = Presentation.decode(text)
        assert decoded == shown
        assert decoded.disclosed == {k: cert.claims[k] for k in shown.disclosed}
        commitment = decoded.claims_commitment()
        assert commitment == cert.record.claims_commitment
        again = decoded.record(commitment)
        assert again.root == cert.record.root
        assert again.leaf().hash() == cert.record.leaf().hash()
        assert decoded.signer() == cert.claims[HOLDER_CLAIM]
        if count == 2 and version == 2:
            assert presentation_qr(text).version <= 19


def test_a_real_qr_image_reads_back_as_the_presentation() -> None:
    wallet = Account.create()
    cert = _certificate(wallet)
    text = _present(cert, ["name", "uscc"], wallet).encode()
    code = presentation_qr(text, box_size=4)
    assert {chunk.mode for chunk in code.data_list} <= {1, 2}  # numeric and alphanumeric
    found = zxingcpp.read_barcodes(code.make_image().get_image())
    assert [b.text for b in found] == [text]
    assert Presentation.decode(found[0].text).signer() == cert.claims[HOLDER_CLAIM]


def test_old_layouts_and_damage_are_refused() -> None:
    wallet = Account.create()
    shown = _present(_certificate(wallet), ["name"], wallet)
    raw = shown.raw()
    with pytest.raises(PresentationOutdated):
        Presentation.decode("ECP1.AgIPMTEzMzAwMDAwMDI0ODIwMDBY")
    with pytest.raises(PresentationOutdated):
        Presentation.from_raw(bytes([LAYOUT - 1]) + raw[1:])
    assert is_presentation("ECP1.AAAA")
    for bad in (raw[:-1], raw + b"\0", raw[:40]):
        with pytest.raises(PresentationError):
            Presentation.from_raw(bad)
    with pytest.raises(PresentationError):
        Presentation.decode(shown.encode().lower())
    other = Account.create()
    with pytest.raises(PresentationError, match="not the certificate's holder"):
        _present(_certificate(wallet), ["name"], other)


def test_two_certificates_of_one_wallet_share_no_8_byte_string() -> None:
    """Two certificates of one holder from two issuers: the presentations have no byte string
    of 8 bytes in common (no key, account, salt, hash, number or signature), in binary or as
    QR text (12 characters: 8 bytes)."""
    wallet = Account.create()
    licence = _certificate(wallet, seed=3)
    degree = _certificate(
        wallet,
        issuer=department_id("320000", "MB0000022"),
        cert_type="DEGREE_CERT",
        number="2026DG00000917",
        batch=512,
        seed=11,
    )
    one = _present(licence, ["name", "uscc"], wallet)
    two = _present(degree, ["holder_name", "degree"], wallet)

    def windows(data: bytes | str, size: int = 8) -> set[bytes | str]:
        return {data[i : i + size] for i in range(len(data) - size + 1)}

    assert not windows(one.raw()) & windows(two.raw())
    assert not windows(one.encode()[5:], 12) & windows(two.encode()[5:], 12)
    assert one.signer() != two.signer()
    assert wallet.address not in {one.signer(), two.signer()}


def test_the_catalogue_positions_presentations_write_stay_put() -> None:
    """Types and fields travel as catalogue positions: reordering the catalogue would make a
    verifier read another field's key (its leaf would then not be in the certificate)."""
    from ledger.catalogue import catalogue  # noqa: PLC0415

    types = list(catalogue())
    assert types[:4] == ["BUSINESS_LICENCE", "DEGREE_CERT", "BIRTH_MEDICAL", "REAL_ESTATE"]
    assert [f.key for f in catalogue()["BUSINESS_LICENCE"].fields] == [
        "uscc", "name", "entity_type", "legal_representative", "registered_capital",
        "established", "address", "business_scope",
    ]  # fmt: skip
