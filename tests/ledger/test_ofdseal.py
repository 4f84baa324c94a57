"""The OFD e-seal verification primitive: an intact certificate passes; each forgery is named
by its reason and nothing raises. Independent judges: asn1tools parses SignedValue.dat from a
schema compiled from the standard's module, OpenSSL verifies the SM2 signature and SM3 digests."""

from __future__ import annotations

import base64
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asn1tools
import pytest
from eth_account import Account

from issuer.ofd import write_ofd
from issuer.sesmaker import make_seal
from ledger import ses, sm2
from ledger.ofd import MAX_TOTAL, OfdPackage
from ledger.ofdseal import OfdSealReason, verify_ofd_seals
from tests.issuer.conftest import SampleSm2, make_document, make_sm2
from tests.openssl_cli import dgst_verify, sm3_hex, verify_link

SIGNED_VALUE = "Doc_0/Signs/Sign_0/SignedValue.dat"
SIGNATURE = "Doc_0/Signs/Sign_0/Signature.xml"
PAGE = "Doc_0/Pages/Page_0/Content.xml"
R = OfdSealReason


@pytest.fixture(scope="module")
def sm2_pki() -> SampleSm2:
    return make_sm2()


@pytest.fixture(scope="module")
def ofd(sm2_pki: SampleSm2) -> bytes:
    return write_ofd(make_document(Account.create()), sm2_pki.sealer)


@pytest.fixture(scope="module")
def package(ofd: bytes) -> OfdPackage:
    return OfdPackage.from_zip(ofd)


def _reasons(package: OfdPackage | bytes) -> set[OfdSealReason]:
    return set(verify_ofd_seals(package).reasons)


def _resign(package: OfdPackage, tbs: ses.TbsSign, key: sm2.Sm2KeyPair, cert: bytes) -> OfdPackage:
    signed = ses.SesSignature(
        {
            "to_sign": tbs,
            "cert": cert,
            "signature_alg_id": sm2.SM3_WITH_SM2,
            "signature": sm2.sign(key, tbs.dump()),
        }
    )
    return package.with_files({SIGNED_VALUE: signed.dump()})


def test_an_intact_certificate_passes(package: OfdPackage, sm2_pki: SampleSm2) -> None:
    report = verify_ofd_seals(package.to_zip())
    assert report.intact, report
    (check,) = report.signatures
    assert set(check.references) == {p for p in package if "/Signs/" not in p}
    assert check.signer_certificate is not None
    assert check.signer_certificate.dump() == sm2_pki.seal.der
    assert check.maker_certificate is not None
    assert sm2.verify_certificate(check.maker_certificate, sm2_pki.zj.cert)
    assert check.seal_name == "浙江省市场监督管理局"
    assert check.signed_at is not None
    assert check.seal_valid_from is not None
    assert check.seal_valid_from <= check.signed_at


def test_a_changed_page_or_attachment_is_a_check_value_mismatch(package: OfdPackage) -> None:
    page = package[PAGE].replace("张三".encode(), "李四".encode())
    assert page != package[PAGE]
    assert _reasons(package.with_files({PAGE: page})) == {R.CHECK_VALUE_MISMATCH}
    claims = package["Doc_0/Attachs/ecert-claims.json"].replace("张三".encode(), "李四".encode())
    assert _reasons(package.with_files({"Doc_0/Attachs/ecert-claims.json": claims})) == {
        R.CHECK_VALUE_MISMATCH
    }


def test_added_removed_and_unlisted_files(package: OfdPackage) -> None:
    added = package.with_files({"Doc_0/Pages/Page_1/Content.xml": package[PAGE]})
    assert _reasons(added) == {R.FILE_NOT_COVERED}
    removed = OfdPackage({k: v for k, v in package.items() if not k.endswith(".ttf")})
    assert _reasons(removed) == {R.REFERENCE_MISSING}
    xml = package[SIGNATURE].decode()
    start = xml.index('<ofd:Reference FileRef="/Doc_0/Attachs/ecert-claims.json">')
    end = xml.index("</ofd:Reference>", start) + len("</ofd:Reference>")
    unlisted = package.with_files({SIGNATURE: (xml[:start] + xml[end:]).encode()})
    assert _reasons(unlisted) == {R.DATA_HASH_MISMATCH, R.FILE_NOT_COVERED}


def test_a_changed_signature_fails_sm2(package: OfdPackage) -> None:
    signed = ses.SesSignature.load(package[SIGNED_VALUE])
    value = bytearray(signed["signature"].native)
    value[-3] ^= 0x01
    forged = ses.SesSignature(
        {
            "to_sign": signed["to_sign"],
            "cert": signed["cert"],
            "signature_alg_id": signed["signature_alg_id"],
            "signature": bytes(value),
        }
    )
    assert _reasons(package.with_files({SIGNED_VALUE: forged.dump()})) == {R.SIGNATURE_INVALID}


def test_signed_by_another_key_or_with_a_foreign_certificate(
    package: OfdPackage, sm2_pki: SampleSm2
) -> None:
    tbs = ses.SesSignature.load(package[SIGNED_VALUE])["to_sign"]
    other = make_sm2()
    # another SM2 key, the department's certificate kept: the signature does not verify
    assert _reasons(_resign(package, tbs, other.seal.key, sm2_pki.seal.der)) == {
        R.SIGNATURE_INVALID
    }
    # a foreign certificate with its own key: verifies, but the seal is not theirs to use
    assert _reasons(_resign(package, tbs, other.seal.key, other.seal.der)) == {R.SIGNER_NOT_IN_SEAL}


def test_a_redrawn_or_borrowed_seal(package: OfdPackage) -> None:
    tbs = ses.SesSignature.load(package[SIGNED_VALUE])["to_sign"]
    seal = tbs["eseal"]
    other = make_sm2("伪造的印章")
    info = seal["eseal_info"].copy()
    info["picture"]["data"] = b"\x89PNG another picture"
    redrawn = ses.SesSeal(
        {
            "eseal_info": info,
            "cert": seal["cert"],
            "sign_alg_id": seal["sign_alg_id"],
            "signed_value": seal["signed_value"],
        }
    )
    forged_tbs = ses.TbsSign(
        {
            "version": 4,
            "eseal": redrawn,
            "time_info": tbs["time_info"],
            "data_hash": tbs["data_hash"],
            "property_info": tbs["property_info"],
        }
    )
    signer = make_sm2()
    reasons = _reasons(_resign(package, forged_tbs, signer.seal.key, signer.seal.der))
    assert R.SEAL_SIGNATURE_INVALID in reasons
    # A whole seal made by a foreign maker is internally consistent: only the verifier's
    # chain check (its maker and signer do not chain to a trusted SM2 root) can refuse it.
    now = datetime.now(UTC)
    foreign = make_seal(
        other.maker,
        other.seal,
        es_id="X",
        name="伪造的印章",
        valid_start=now - timedelta(days=1),
        valid_end=now + timedelta(days=9),
    )
    whole = ses.TbsSign(
        {
            "version": 4,
            "eseal": foreign,
            "time_info": tbs["time_info"],
            "data_hash": tbs["data_hash"],
            "property_info": tbs["property_info"],
        }
    )
    report = verify_ofd_seals(_resign(package, whole, other.seal.key, other.seal.der))
    assert report.intact
    assert report.signatures[0].maker_certificate is not None
    assert not sm2.verify_certificate(report.signatures[0].maker_certificate, make_sm2().zj.cert)


def test_signed_outside_the_seals_validity(package: OfdPackage, sm2_pki: SampleSm2) -> None:
    tbs = ses.SesSignature.load(package[SIGNED_VALUE])["to_sign"]
    late = ses.TbsSign(
        {
            "version": 4,
            "eseal": tbs["eseal"],
            "time_info": datetime.now(UTC) + timedelta(days=5000),
            "data_hash": tbs["data_hash"],
            "property_info": tbs["property_info"],
        }
    )
    assert _reasons(_resign(package, late, sm2_pki.seal.key, sm2_pki.seal.der)) == {
        R.SEAL_NOT_VALID_AT_SIGNING
    }


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_malformed_packages_never_raise(ofd: bytes, package: OfdPackage) -> None:
    assert _reasons(ofd[: len(ofd) // 2]) == {R.MALFORMED}
    assert _reasons(b"not a zip at all") == {R.MALFORMED}
    bomb = _zip({"OFD.xml": b"0" * (MAX_TOTAL + 1)})
    assert len(bomb) < 100_000
    assert _reasons(bomb) == {R.MALFORMED}
    escaping = _zip({"../OFD.xml": package["OFD.xml"]})
    assert _reasons(escaping) == {R.MALFORMED}
    entity = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'
    assert _reasons(package.with_files({"OFD.xml": entity})) == {R.MALFORMED}
    assert _reasons(package.with_files({SIGNED_VALUE: b"\x30\x03\x02\x01\x04"})) == {R.MALFORMED}
    unsealed = OfdPackage({k: v for k, v in package.items() if k != "Doc_0/Signs/Signatures.xml"})
    assert _reasons(unsealed) == {R.MALFORMED}
    no_pointer = package["OFD.xml"].replace(
        b"<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>", b""
    )
    assert _reasons(package.with_files({"OFD.xml": no_pointer})) == {R.NOT_SEALED}


def test_signed_value_parses_with_the_standards_schema(
    package: OfdPackage, sm2_pki: SampleSm2
) -> None:
    schema = asn1tools.compile_files(
        str(Path(__file__).parent.parent / "vectors" / "gbt38540.asn"), "der"
    )
    decoded = schema.decode("SES-Signature", package[SIGNED_VALUE])
    tbs = decoded["toSign"]
    assert tbs["version"] == 4
    assert tbs["propertyInfo"] == f"/{SIGNATURE}"
    assert tbs["dataHash"][0] == sm2.sm3(package[SIGNATURE])
    assert decoded["cert"] == sm2_pki.seal.der
    assert decoded["signatureAlgID"] == "1.2.156.10197.1.501"
    seal = tbs["eseal"]
    assert seal["esealInfo"]["header"] == {"id": "ES", "version": 4, "vid": "ecert"}
    assert seal["esealInfo"]["property"]["certList"] == [sm2_pki.seal.der]
    assert seal["esealInfo"]["picture"]["data"].startswith(b"\x89PNG")
    assert seal["cert"] == sm2_pki.maker.der
    # and re-encoding the standard's reading gives our bytes back: we wrote DER
    assert schema.encode("SES-Signature", decoded) == package[SIGNED_VALUE]


def test_openssl_verifies_the_seal_signatures_and_digests(
    package: OfdPackage, sm2_pki: SampleSm2, tmp_path: Path
) -> None:
    signed = ses.SesSignature.load(package[SIGNED_VALUE])
    public = sm2.certificate_public_key(sm2_pki.seal.cert)
    assert dgst_verify(
        public, signed["to_sign"].dump(), bytes(signed["signature"].native), tmp_path
    )
    seal = signed["to_sign"]["eseal"]
    maker_key = sm2.certificate_public_key(sm2_pki.maker.cert)
    assert dgst_verify(
        maker_key, seal["eseal_info"].dump(), bytes(seal["signed_value"].native), tmp_path
    )
    assert verify_link(sm2_pki.seal.cert, sm2_pki.zj.cert, tmp_path)
    xml = package[SIGNATURE].decode()
    page_value = xml.split(f'FileRef="/{PAGE}"><ofd:CheckValue>')[1].split("<")[0]
    assert base64.b64decode(page_value).hex() == sm3_hex(package[PAGE])
    assert bytes(signed["to_sign"]["data_hash"].native).hex() == sm3_hex(package[SIGNATURE])
