"""One record, two documents, on a real anvil node: a certificate issued through the pipeline as
a PDF and an OFD verifies VALID from either file, its QR text, its number and a holder's
presentation, all under one version-3 leaf and one anchor; revoked, both files are INVALID.
The OFD forgery suite is INVALID with its reasons and never crashes; ``ecert verify``, the API
and the upload page take the OFD; OpenSSL alone verifies the issued seal's chain and its SM2
signatures."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from eth_account import Account
from typer.testing import CliRunner

from issuer.formats import BOTH
from issuer.sesmaker import make_seal
from ledger import ses, sm2
from ledger.codes import RevocationReason
from ledger.ofd import MAX_TOTAL, OfdPackage
from ledger.presentation import build_presentation
from ledger.proofrecord import ProofRecord
from tests.integration.servers import ServiceProcess
from tests.issuer.conftest import make_sm2
from tests.openssl_cli import dgst_verify, sm3_hex, verify_link
from tests.verifier.conftest import PASSWORD, ZJ_MARKET, Network
from verifier import plans
from verifier.names import CheckName
from verifier.reasons import ReasonCode as C
from verifier.result import Verdict, VerificationReport

pytestmark = pytest.mark.anvil

SIGNED_VALUE = "Doc_0/Signs/Sign_0/SignedValue.dat"
SIGNATURE = "Doc_0/Signs/Sign_0/Signature.xml"
PAGE = "Doc_0/Pages/Page_0/Content.xml"
CLAIMS = "Doc_0/Attachs/ecert-claims.json"


@dataclass(frozen=True)
class Twin:
    number: str
    pdf: bytes
    ofd: bytes
    qr: str

    @property
    def package(self) -> OfdPackage:
        return OfdPackage.from_zip(self.ofd)


def _twin(network: Network, reference: str, holder_key: str | None = None) -> Twin:
    number = network.issue_one(reference, days=365, formats=BOTH, holder_key=holder_key)
    view = network.pipeline.certificate(ZJ_MARKET, number)
    assert view["status"] == "ANCHORED", view
    return Twin(
        number,
        network.pipeline.pdf(ZJ_MARKET, number),
        network.pipeline.ofd(ZJ_MARKET, number),
        view["qr"],
    )


@pytest.fixture(scope="module")
def twin(network: Network) -> Twin:
    return _twin(network, "ofd-twin")


def _valid(report: VerificationReport) -> None:
    assert report.verdict is Verdict.VALID, [c.to_json("en") for c in report.failures()]


def test_pdf_and_ofd_verify_valid_by_file_qr_and_number(network: Network, twin: Twin) -> None:
    verifier = network.verifier()
    record = ProofRecord.from_json(network.pipeline.public_proof(ZJ_MARKET, twin.number))
    assert record.leaf_version == 3
    pdf, ofd = verifier.verify_pdf(twin.pdf), verifier.verify_file(twin.ofd)
    _valid(pdf)
    _valid(ofd)
    assert ofd.input_kind.value == "ofd"
    assert tuple(c.name for c in ofd.checks) == plans.OFD.names
    # one leaf, one anchor: both files are found in the same root at the same block
    included = [r.check(CheckName.ANCHOR_INCLUDED) for r in (pdf, ofd)]
    assert included[0] is not None
    assert included[1] is not None
    assert included[0].data == included[1].data
    _valid(verifier.verify_qr_text(twin.qr))
    _valid(verifier.verify_id(ZJ_MARKET, twin.number))
    assert ofd.certificate.qr == pdf.certificate.qr
    assert [f.value for f in ofd.certificate.fields] == [f.value for f in pdf.certificate.fields]


def test_a_holder_presents_fields_from_the_ofd(network: Network) -> None:
    holder = Account.create()
    twin = _twin(network, "ofd-holder", holder_key=holder.address)
    claims = json.loads(twin.package[CLAIMS])
    record = ProofRecord.from_json(network.pipeline.public_proof(ZJ_MARKET, twin.number))
    shown = build_presentation(
        record,
        claims["claims"],
        bytes.fromhex(claims["claims_secret"]),
        ["name"],
        holder,
        expires_at=datetime.now(UTC) + timedelta(minutes=5),
    )
    _valid(network.verifier().verify_presentation(shown.encode()))


def test_revoked_both_files_are_invalid(network: Network) -> None:
    twin = _twin(network, "ofd-revoked")
    network.pipeline.revoke(ZJ_MARKET, twin.number, RevocationReason.SUPERSEDED)
    verifier = network.verifier()
    verifier.chain.refresh(force=True)
    for report in (verifier.verify_pdf(twin.pdf), verifier.verify_ofd(twin.ofd)):
        assert report.verdict is Verdict.INVALID
        assert C.REVOKED in {c.reason for c in report.failures()}


# ---------------------------------------------------------------- forgeries


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _resign(package: OfdPackage, tbs: ses.TbsSign, key: sm2.Sm2KeyPair, cert: bytes) -> bytes:
    signed = ses.SesSignature(
        {
            "to_sign": tbs,
            "cert": cert,
            "signature_alg_id": sm2.SM3_WITH_SM2,
            "signature": sm2.sign(key, tbs.dump()),
        }
    )
    return package.with_files({SIGNED_VALUE: signed.dump()}).to_zip()


def _tbs(package: OfdPackage, seal: ses.SesSeal | None = None) -> ses.TbsSign:
    tbs = ses.SesSignature.load(package[SIGNED_VALUE])["to_sign"]
    return ses.TbsSign(
        {
            "version": 4,
            "eseal": seal if seal is not None else tbs["eseal"],
            "time_info": tbs["time_info"],
            "data_hash": tbs["data_hash"],
            "property_info": tbs["property_info"],
        }
    )


def _page(package: OfdPackage) -> bytes:
    page = package[PAGE].replace("营业执照".encode(), "经营许可".encode())
    assert page != package[PAGE]
    return package.with_files({PAGE: page}).to_zip()


def _attachment(package: OfdPackage) -> bytes:
    claims = json.loads(package[CLAIMS])
    claims["claims"]["name"] = "另一家公司"
    changed = json.dumps(claims, ensure_ascii=False, sort_keys=True).encode()
    return package.with_files({CLAIMS: changed}).to_zip()


def _reference_list(package: OfdPackage) -> bytes:
    xml = package[SIGNATURE].decode()
    start = xml.index(f'<ofd:Reference FileRef="/{CLAIMS}">')
    end = xml.index("</ofd:Reference>", start) + len("</ofd:Reference>")
    return package.with_files({SIGNATURE: (xml[:start] + xml[end:]).encode()}).to_zip()


def _another_key(package: OfdPackage) -> bytes:
    cert = ses.SesSignature.load(package[SIGNED_VALUE])["cert"].native
    return _resign(package, _tbs(package), make_sm2().seal.key, bytes(cert))


def _foreign_seal(package: OfdPackage) -> bytes:
    foreign = make_sm2("浙江省市场监督管理局")  # the same names, another (untrusted) SM2 PKI
    now = datetime.now(UTC)
    seal = make_seal(
        foreign.maker,
        foreign.seal,
        es_id="forged",
        name="浙江省市场监督管理局",
        valid_start=now - timedelta(days=1),
        valid_end=now + timedelta(days=30),
    )
    return _resign(package, _tbs(package, seal), foreign.seal.key, foreign.seal.der)


def _borrowed_seal(package: OfdPackage) -> bytes:
    other = make_sm2()
    return _resign(package, _tbs(package), other.seal.key, other.seal.der)


def _redrawn_seal(package: OfdPackage) -> bytes:
    seal = ses.SesSignature.load(package[SIGNED_VALUE])["to_sign"]["eseal"]
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
    signer = make_sm2()
    return _resign(package, _tbs(package, redrawn), signer.seal.key, signer.seal.der)


def _bomb(package: OfdPackage) -> bytes:
    return _zip({**package, "Doc_0/Res/filler.bin": b"\0" * (MAX_TOTAL + 1)})


def _added_file(package: OfdPackage) -> bytes:
    return package.with_files({"Doc_0/Pages/Page_1/Content.xml": package[PAGE]}).to_zip()


def _removed_file(package: OfdPackage) -> bytes:
    return OfdPackage({k: v for k, v in package.items() if not k.endswith(".ttf")}).to_zip()


def _unsealed(package: OfdPackage) -> bytes:
    entry = package["OFD.xml"].replace(
        b"<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>", b""
    )
    return package.with_files({"OFD.xml": entry}).to_zip()


def _entity(package: OfdPackage) -> bytes:
    dtd = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'
    return package.with_files({"Doc_0/Document.xml": dtd}).to_zip()


FORGERIES: dict[str, tuple[Any, C]] = {
    "page content": (_page, C.OFD_FILE_CHANGED),
    "attachment": (_attachment, C.OFD_FILE_CHANGED),
    "reference list": (_reference_list, C.OFD_REFERENCES_CHANGED),
    "signature by another SM2 key": (_another_key, C.OFD_SIGNATURE_INVALID),
    "foreign SM2 seal": (_foreign_seal, C.SEAL_UNTRUSTED),
    "borrowed seal": (_borrowed_seal, C.ESEAL_NOT_SIGNERS),
    "redrawn seal": (_redrawn_seal, C.ESEAL_FORGED),
    "added file": (_added_file, C.OFD_FILE_NOT_SIGNED),
    "removed file": (_removed_file, C.OFD_FILE_MISSING),
    "no seal": (_unsealed, C.SEAL_MISSING),
    "DTD entities": (_entity, C.OFD_MALFORMED),
    "zip bomb inside": (_bomb, C.NOT_AN_OFD),
}


def test_ofd_forgeries_are_invalid_with_their_reasons(network: Network, twin: Twin) -> None:
    verifier = network.verifier()
    package = twin.package
    cases = {name: (make(package), reason) for name, (make, reason) in FORGERIES.items()}
    cases["truncated"] = (twin.ofd[: len(twin.ofd) // 2], C.NOT_AN_OFD)
    cases["zip bomb"] = (_zip({"OFD.xml": b"0" * (MAX_TOTAL + 1)}), C.NOT_AN_OFD)
    for name, (data, reason) in cases.items():
        report = verifier.verify_ofd(data)
        assert tuple(c.name for c in report.checks) == plans.OFD.names, name
        reasons = {c.reason for c in report.failures()}
        assert report.verdict is Verdict.INVALID, (name, report.to_json("en"))
        assert reason in reasons, (name, report.to_json("en"))
        assert C.UNEXPECTED not in reasons, (name, report.to_json("en"))
    # every forgery of the content is also not the anchored file
    content = verifier.verify_ofd(cases["page content"][0])
    assert C.NOT_ANCHORED in {c.reason for c in content.failures()}


# ---------------------------------------------------------------- the interfaces


def test_ecert_verify_and_download_take_the_ofd(
    network: Network, twin: Twin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.main import app  # noqa: PLC0415

    monkeypatch.setenv("ECERT_HOME", str(network.home))
    monkeypatch.setenv("ECERT_KEY_PASSWORD", PASSWORD)
    runner = CliRunner()
    target = tmp_path / "licence.ofd"
    fetched = runner.invoke(
        app,
        ["download", twin.number, "--issuer", ZJ_MARKET, "--format", "ofd", "--out", str(target)],
    )
    assert fetched.exit_code == 0, fetched.output
    assert target.read_bytes() == twin.ofd
    config = str(network.config_path)
    good = runner.invoke(
        app, ["verify", str(target), "--config", config, "--region", "ZJ", "--json"]
    )
    assert good.exit_code == 0, good.output
    assert json.loads(good.output)["input"] == "ofd"
    forged = tmp_path / "forged.ofd"
    forged.write_bytes(_page(twin.package))
    bad = runner.invoke(app, ["verify", str(forged), "--config", config, "--region", "ZJ"])
    assert bad.exit_code == 1, bad.output


def test_the_api_and_the_upload_page_take_the_ofd(service: ServiceProcess, twin: Twin) -> None:
    files = {"file": ("licence.ofd", twin.ofd, "application/ofd")}
    answer = httpx.post(f"{service.url}/api/v1/verify", files=files, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["input"], body["verdict"]) == ("ofd", "VALID"), body
    page = httpx.post(f"{service.url}/verify?lang=en", files=files, timeout=30)
    assert page.status_code == 200
    assert 'data-check="ofd.references"' in page.text
    forged = {"file": ("forged.ofd", _attachment(twin.package), "application/octet-stream")}
    refused = httpx.post(f"{service.url}/api/v1/verify", files=forged, timeout=30).json()
    assert refused["verdict"] == "INVALID"


# ---------------------------------------------------------------- OpenSSL as the judge


def _certificate(path: Path) -> asn1_x509.Certificate:
    _kind, _headers, der = pem.unarmor(path.read_bytes())
    return asn1_x509.Certificate.load(der)


def test_openssl_verifies_the_issued_seal_chain_and_signatures(
    network: Network, twin: Twin, tmp_path: Path
) -> None:
    package = twin.package
    signed = ses.SesSignature.load(package[SIGNED_VALUE])
    signer = asn1_x509.Certificate.load(bytes(signed["cert"].native))
    seal = signed["to_sign"]["eseal"]
    maker = asn1_x509.Certificate.load(bytes(seal["cert"].native))
    base = network.home / "pki" / "sm2"
    ca, root = (
        _certificate(base / "provinces" / "ZJ" / "ca.cert.pem"),
        _certificate(base / "root.cert.pem"),
    )
    # the chain, link by link (OpenSSL 3.0 applies distid to the certificate verified only)
    assert verify_link(signer, ca, tmp_path)
    assert verify_link(maker, ca, tmp_path)
    assert verify_link(ca, root, tmp_path)
    assert verify_link(root, root, tmp_path)
    assert not verify_link(signer, make_sm2().zj.cert, tmp_path)
    # the department's SM2 signature over TBS_Sign and the seal maker's over the seal
    tbs = signed["to_sign"]
    assert dgst_verify(
        sm2.certificate_public_key(signer), tbs.dump(), bytes(signed["signature"].native), tmp_path
    )
    assert dgst_verify(
        sm2.certificate_public_key(maker),
        seal["eseal_info"].dump(),
        bytes(seal["signed_value"].native),
        tmp_path,
    )
    # and TBS_Sign binds the signed file list, whose check values are the files' SM3 digests
    assert bytes(tbs["data_hash"].native).hex() == sm3_hex(package[SIGNATURE])
    xml = package[SIGNATURE].decode()
    value = xml.split(f'FileRef="/{CLAIMS}"><ofd:CheckValue>')[1].split("<")[0]
    assert base64.b64decode(value).hex() == sm3_hex(package[CLAIMS])
