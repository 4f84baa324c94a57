from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from eth_abi.abi import encode
from eth_hash.auto import keccak
from hypothesis import given
from hypothesis import strategies as st

from ledger.codes import (
    cert_type_from_bytes,
    cert_type_to_bytes,
    issuer_id_from_bytes,
    issuer_id_to_bytes,
    province_from_bytes,
    province_to_bytes,
)
from ledger.digest import certificate_fingerprint, document_digest, file_digest
from ledger.errors import InvalidIdentifier, MerkleError
from ledger.keccak import keccak256
from ledger.leaf import (
    LEAF_ABI_TYPES,
    NO_DOCUMENT,
    CertificateLeaf,
    certificate_id_hash,
    documents_digest,
)
from tests.vectors import generate

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _leaf(**changes: object) -> CertificateLeaf:
    values: dict[str, object] = {
        "issuer_id": "ZJ-AMR",
        "cert_type": "BUSINESS_LICENCE",
        "certificate_id": "ZJ-2026-000001",
        "claims_commitment": b"\x11" * 32,
        "document_digest": b"\x22" * 32,
        "valid_from": START,
        "valid_until": START + timedelta(days=365),
    }
    values.update(changes)
    return CertificateLeaf(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("version", [1, 2])
def test_leaf_is_openzeppelin_double_hash_of_the_abi_tuple(version: int) -> None:
    leaf = _leaf(version=version)
    encoded = encode(
        ["uint8", "bytes32", "bytes16", "bytes32", "bytes32", "bytes32", "uint64", "uint64"],
        [
            version,
            b"ZJ-AMR".ljust(32, b"\0"),
            b"BUSINESS_LICENCE",
            certificate_id_hash("ZJ-2026-000001"),
            b"\x11" * 32,
            b"\x22" * 32,
            int(START.timestamp()),
            int((START + timedelta(days=365)).timestamp()),
        ],
    )
    assert leaf.hash() == keccak(keccak(encoded))


@pytest.mark.parametrize(
    "change",
    [
        {"issuer_id": "ZJ-AMR2"},
        {"cert_type": "DEGREE_CERT"},
        {"certificate_id": "ZJ-2026-000002"},
        {"claims_commitment": b"\x12" * 32},
        {"document_digest": b"\x23" * 32},
        {"valid_from": START + timedelta(seconds=1)},
        {"valid_until": None},
        {"version": 1},
    ],
)
def test_every_field_changes_the_leaf(change: dict[str, object]) -> None:
    assert _leaf(**change).hash() != _leaf().hash()


def test_leaf_refuses_naive_dates_bad_digests_and_reversed_periods() -> None:
    with pytest.raises(MerkleError):
        _leaf(valid_from=datetime(2026, 1, 1)).hash()  # noqa: DTZ001 - the point of the test
    with pytest.raises(MerkleError):
        _leaf(document_digest=b"\x01" * 31)
    with pytest.raises(MerkleError):
        _leaf(valid_until=START - timedelta(days=1))


def test_version_3_binds_both_documents_in_the_same_tuple() -> None:
    pdf, ofd = b"\x22" * 32, b"\x33" * 32
    leaf = _leaf(version=3, ofd_digest=ofd)
    combined = hashlib.sha256(pdf + ofd).digest()
    assert leaf.abi_values()[5] == combined == documents_digest(pdf, ofd)
    assert len(leaf.abi_values()) == len(LEAF_ABI_TYPES)
    encoded = encode(list(LEAF_ABI_TYPES), [3, *leaf.abi_values()[1:]])
    assert leaf.hash() == keccak(keccak(encoded))
    assert _leaf(version=3, ofd_digest=b"\x34" * 32).hash() != leaf.hash()
    assert _leaf(version=3, ofd_digest=ofd, document_digest=NO_DOCUMENT).hash() != leaf.hash()
    # version 2 with the combined digest as its PDF digest is another leaf (the version differs)
    assert _leaf(version=2, document_digest=combined).hash() != leaf.hash()


def test_only_version_3_has_an_ofd_digest() -> None:
    with pytest.raises(MerkleError, match="needs an OFD digest"):
        _leaf(version=3)
    with pytest.raises(MerkleError, match="has no OFD digest"):
        _leaf(version=2, ofd_digest=b"\x33" * 32)
    with pytest.raises(MerkleError):
        _leaf(version=3, ofd_digest=b"\x33" * 31)


def test_committed_vectors_match_the_python_code() -> None:
    # The Hardhat suite checks the same file against ethers and the contract.
    assert generate.PATH.read_text("utf-8") == generate.render()
    data = json.loads(generate.render())
    assert len(data["cases"]) >= 15
    three = [c for c in data["cases"] if c["values"][0] == 3]
    assert len(three) == 5
    for case in three:
        pdf, ofd = (bytes.fromhex(case[k][2:]) for k in ("pdf_digest", "ofd_digest"))
        assert case["values"][5] == "0x" + documents_digest(pdf, ofd).hex()


@given(st.from_regex(r"[A-Z0-9]{2,12}", fullmatch=True))
def test_province_codes_round_trip(code: str) -> None:
    assert province_from_bytes(province_to_bytes(code)) == code


@given(st.from_regex(r"[A-Z][A-Z0-9_]{0,15}", fullmatch=True))
def test_cert_types_round_trip(code: str) -> None:
    raw = cert_type_to_bytes(code)
    assert len(raw) == 16
    assert cert_type_from_bytes(raw) == code


@pytest.mark.parametrize("bad", ["", "zj", "Z", "浙江", "A" * 13, "Z J"])
def test_bad_province_codes(bad: str) -> None:
    with pytest.raises(InvalidIdentifier):
        province_to_bytes(bad)


@pytest.mark.parametrize("bad", ["", "business", "A" * 17, "1ABC"])
def test_bad_cert_types(bad: str) -> None:
    with pytest.raises(InvalidIdentifier):
        cert_type_to_bytes(bad)


def test_issuer_ids_accept_social_credit_codes_and_refuse_junk() -> None:
    assert issuer_id_from_bytes(issuer_id_to_bytes("11330000002482000X")) == "11330000002482000X"
    with pytest.raises(InvalidIdentifier):
        issuer_id_to_bytes("-LEADING-DASH")
    with pytest.raises(InvalidIdentifier):
        issuer_id_from_bytes(b"\xff" * 32)
    with pytest.raises(InvalidIdentifier):
        issuer_id_from_bytes(b"AB")


def test_digests(tmp_path: object) -> None:
    from pathlib import Path  # noqa: PLC0415

    path = Path(str(tmp_path)) / "doc.pdf"
    body = b"%PDF-1.7\n" + bytes(range(256)) * 5000
    path.write_bytes(body)
    assert file_digest(path) == document_digest(body)
    assert len(certificate_fingerprint(b"der")) == 32


@given(
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**36),
    st.one_of(st.none(), st.integers(0, 2**36)),
    st.text(min_size=1, max_size=40),
)
def test_fast_leaf_encoding_equals_eth_abi(
    commitment: bytes, digest: bytes, start: int, length: int | None, number: str
) -> None:
    valid_from = datetime.fromtimestamp(start, UTC)
    until = None if length is None else datetime.fromtimestamp(start + length, UTC)
    leaf = _leaf(
        claims_commitment=commitment,
        document_digest=digest,
        valid_from=valid_from,
        valid_until=until,
        certificate_id=number,
    )
    reference = encode(list(LEAF_ABI_TYPES), list(leaf.abi_values()))
    assert leaf.encoded() == reference
    assert leaf.hash() == keccak(keccak(reference))


@given(st.binary(max_size=300))
def test_keccak256_is_eth_hash_keccak(data: bytes) -> None:
    assert keccak256(data) == keccak(data)


def test_leaf_refuses_dates_before_1970() -> None:
    with pytest.raises(MerkleError):
        _leaf(valid_from=datetime(1960, 1, 1, tzinfo=UTC), valid_until=None).hash()
