"""One record for two documents: a version-3 proof record and a presentation carry the OFD's
digest beside the PDF's, round-trip, and give the same leaf; versions 1 and 2 carry none. The
OFD navigation finds the writer's document, page and attachment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account

from issuer.ofd import write_ofd
from ledger.claims import ClaimsCommitment
from ledger.errors import MerkleError
from ledger.leaf import NO_DOCUMENT
from ledger.ofd import MAX_XML, OfdError, OfdPackage, is_ofd
from ledger.ofddoc import read_document
from ledger.presentation import HOLDER_CLAIM, Presentation, build_presentation, holder_claim_value
from ledger.proofrecord import ProofRecord
from tests.issuer.conftest import SampleSm2, make_document, make_sm2

START = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sm2_pki() -> SampleSm2:
    return make_sm2()


def _record(version: int, ofd: bytes | None, commitment: bytes = b"\x11" * 32) -> ProofRecord:
    return ProofRecord(
        issuer_id="ZJ-AMR",
        cert_type="BUSINESS_LICENCE",
        certificate_id="2027BL00000001",
        claims_commitment=commitment,
        document_digest=b"\x22" * 32,
        valid_from=START,
        valid_until=START + timedelta(days=365),
        root=b"\x44" * 32,
        siblings=(b"\x55" * 32,),
        index=1,
        block=9,
        leaf_version=version,
        ofd_digest=ofd,
    )


@pytest.mark.parametrize(("version", "ofd"), [(1, None), (2, None), (3, b"\x33" * 32)])
def test_proof_records_round_trip(version: int, ofd: bytes | None) -> None:
    record = _record(version, ofd)
    raw = record.to_json()
    assert ("ofd_digest" in raw) == (version == 3)
    again = ProofRecord.from_json(raw)
    assert again == record
    assert again.leaf().hash() == record.leaf().hash()


def test_a_version_3_record_without_its_ofd_digest_is_malformed() -> None:
    raw = _record(3, b"\x33" * 32).to_json()
    del raw["ofd_digest"]
    with pytest.raises(MerkleError):
        ProofRecord.from_json(raw)
    two = _record(2, None).to_json() | {"ofd_digest": "33" * 32}
    with pytest.raises(MerkleError):
        ProofRecord.from_json(two)
    short = _record(3, b"\x33" * 32).to_json() | {"ofd_digest": "33" * 31}
    with pytest.raises(MerkleError):
        ProofRecord.from_json(short)


def test_an_ofd_only_record_binds_no_pdf() -> None:
    record = _record(3, b"\x33" * 32)
    alone = ProofRecord.from_json(record.to_json() | {"document_digest": NO_DOCUMENT.hex()})
    assert alone.leaf().hash() != record.leaf().hash()


@pytest.mark.parametrize(("version", "ofd"), [(2, None), (3, b"\x33" * 32)])
def test_presentations_carry_the_ofd_digest(version: int, ofd: bytes | None) -> None:
    holder = Account.create()
    claims = {"name": "杭州示范科技有限公司", HOLDER_CLAIM: holder_claim_value(holder.address)}
    secret = b"\x07" * 32
    record = _record(version, ofd, ClaimsCommitment(claims, secret).root)
    shown = build_presentation(
        record, claims, secret, ["name"], holder, expires_at=START + timedelta(minutes=5)
    )
    decoded = Presentation.decode(shown.encode())
    again = decoded.record(decoded.claims_commitment())
    assert again.ofd_digest == ofd
    assert again.leaf_version == version
    assert again.leaf().hash() == record.leaf().hash()
    assert decoded.signer() == holder.address


def test_the_writers_package_is_found_and_detected(sm2_pki: SampleSm2) -> None:
    doc = make_document(Account.create())
    data = write_ofd(doc, sm2_pki.sealer)
    assert is_ofd(data)
    assert not is_ofd(b"%PDF-1.7")
    assert not is_ofd(b"PK\x03\x04 truncated")
    package = OfdPackage.from_zip(data)
    found = read_document(package)
    assert found.document == "Doc_0/Document.xml"
    assert found.pages == ("Doc_0/Pages/Page_0/Content.xml",)
    assert found.attachments == {"ecert-claims.json": "Doc_0/Attachs/ecert-claims.json"}
    assert found.signatures == "Doc_0/Signs/Signatures.xml"
    assert found.page_area[2:] == pytest.approx((210, 297), abs=0.1)
    with pytest.raises(OfdError, match="larger than"):
        package.with_files({"OFD.xml": b"<a>" + b" " * MAX_XML + b"</a>"}).xml("OFD.xml")
    elsewhere = package["OFD.xml"].replace(b"Doc_0/Document.xml", b"Doc_1/Document.xml")
    with pytest.raises(OfdError, match="missing"):
        read_document(package.with_files({"OFD.xml": elsewhere}))
