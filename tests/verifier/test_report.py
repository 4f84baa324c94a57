"""The sealed verification report a bank files: from ``ecert verify --report``, from the API
and from the link on the QR code's page — one page naming the certificate and the verdict,
sealed with the verifying province's e-seal (poppler's ``pdfsig`` says the seal is valid), with
a QR code (read back with zbar) that opens this certificate's page again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.servers import ServiceProcess
from tests.verifier.conftest import PASSWORD, ZJ_MARKET, Network

pytestmark = pytest.mark.anvil


def _text(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def _seal_is_valid(pdf: Path) -> bool:
    done = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True, check=False)
    return "Signature Validation: Signature is Valid." in done.stdout


def _qr_on(pdf: Path, tmp_path: Path) -> str:
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(tmp_path / "report")],
        check=True,
    )
    done = subprocess.run(
        ["zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "report.png")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_ecert_verify_writes_a_sealed_report(network: Network, tmp_path: Path) -> None:
    source = tmp_path / "licence.pdf"
    source.write_bytes(network.pdf(network.good))
    report = tmp_path / "report.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "verify", str(source), "--region", "ZJ",
         "--config", str(network.config_path), "--report", str(report)],
        capture_output=True, text=True, check=False, timeout=120,
        env={"ECERT_HOME": str(network.home), "ECERT_KEY_PASSWORD": PASSWORD,
             "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert _seal_is_valid(report)
    text = _text(report)
    assert network.good in text
    assert "真实有效" in text
    assert "VALID" in text
    qr = network.pipeline.certificate(ZJ_MARKET, network.good)["qr"]
    assert _qr_on(report, tmp_path) == "http://127.0.0.1:8800/v/" + qr.rsplit("/v/", 1)[1]


def test_the_api_and_the_page_link_give_the_same_sealed_report(
    network: Network, service: ServiceProcess, tmp_path: Path
) -> None:
    revoked = network.pipeline.certificate(ZJ_MARKET, network.revoked)["qr"]
    answer = httpx.post(f"{service.url}/api/v1/report", json={"qr_text": revoked}, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert network.revoked in answer.headers["content-disposition"]
    (tmp_path / "revoked.pdf").write_bytes(answer.content)
    assert _seal_is_valid(tmp_path / "revoked.pdf")
    text = _text(tmp_path / "revoked.pdf")
    assert "无效" in text
    assert "该证照已被撤销" in text

    payload = network.pipeline.certificate(ZJ_MARKET, network.good)["qr"].rsplit("/v/", 1)[1]
    page = httpx.get(f"{service.url}/v/{payload}", timeout=30).text
    assert f'href="/v/{payload}/report.pdf?lang=zh&amp;region=ZJ"' in page
    english = httpx.get(f"{service.url}/v/{payload}/report.pdf?lang=en", timeout=60)
    assert english.status_code == 200
    (tmp_path / "en.pdf").write_bytes(english.content)
    assert "Certificate verification report" in _text(tmp_path / "en.pdf")
    assert _qr_on(tmp_path / "en.pdf", tmp_path) == f"{service.url}/v/{payload}"
