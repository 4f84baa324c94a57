"""PAdES B-T: a seal timestamped by the province's own RFC 3161 service, run as a real
server process on 127.0.0.1, and validated by pyHanko."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from issuer.pkistore import PkiStore
from issuer.render import render_certificate
from issuer.seal import Sealer, to_asn1
from tests.integration.servers import ServiceProcess
from tests.issuer.conftest import make_document

PASSWORD = "timestamp test password"


@pytest.fixture
def tsa(tmp_path: Path) -> ServiceProcess:
    pki = PkiStore(tmp_path, PASSWORD)
    pki.init_root()
    pki.add_province("ZJ", "浙江省")
    pki.issue_seal("ZJ", "浙江省", "11330000002482000X", "浙江省市场监督管理局")
    server = ServiceProcess(
        "tsa",
        ["--province", "ZJ"],
        {"ECERT_HOME": str(tmp_path), "ECERT_KEY_PASSWORD": PASSWORD},
        tmp_path / "tsa.log",
    )
    return server.start()


def test_seal_with_a_timestamp_from_the_province_tsa_is_b_t(
    tsa: ServiceProcess, tmp_path: Path
) -> None:
    try:
        pki = PkiStore(tmp_path, PASSWORD)
        sealer = Sealer(
            pki.seal("11330000002482000X"),
            [pki.province_ca("ZJ").cert],
            location="浙江省",
            timestamp_url=tsa.url + "/",
        )
        assert sealer.level == "B-T"
        sealed = sealer.seal(render_certificate(make_document(Account.create())))
        status = validate_pdf_signature(
            PdfFileReader(io.BytesIO(sealed)).embedded_signatures[0],
            ValidationContext(trust_roots=[to_asn1(pki.root_certificate())]),
        )
        assert status.bottom_line
        assert status.timestamp_validity is not None
        assert status.timestamp_validity.intact
        assert status.timestamp_validity.trusted
        garbage = httpx.post(
            tsa.url + "/",
            content=b"not a query",
            headers={"Content-Type": "application/timestamp-query"},
        )
        assert garbage.status_code == 400
        wrong_type = httpx.post(tsa.url + "/", content=b"x")
        assert wrong_type.status_code == 415
    finally:
        tsa.stop()
