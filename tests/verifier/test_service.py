"""The verifier service as a separate process on 127.0.0.1: the JSON API from every input, the
QR page and upload page, health and metrics, and clean 4xx answers to every malformed input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.servers import ServiceProcess
from tests.verifier.conftest import ZJ_MARKET, Network

pytestmark = pytest.mark.anvil


def test_api_verifies_pdf_image_qr_text_and_number(
    service: ServiceProcess, network: Network, tmp_path: Path
) -> None:
    pdf = network.pdf(network.good)
    url = f"{service.url}/api/v1/verify"
    by_pdf = httpx.post(url, files={"file": ("c.pdf", pdf, "application/pdf")}, timeout=30)
    assert by_pdf.status_code == 200
    body = by_pdf.json()
    assert body["verdict"] == "VALID", body
    assert body["input"] == "pdf"
    assert {c["name"] for c in body["checks"]} >= {"seal.trusted", "anchor.included"}
    assert body["certificate"]["fields"]
    source = tmp_path / "c.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(source), str(tmp_path / "page")],
        check=True,
    )
    by_image = httpx.post(
        url,
        files={"file": ("p.png", (tmp_path / "page.png").read_bytes(), "image/png")},
        timeout=30,
    )
    assert by_image.json()["verdict"] == "VALID"
    qr = network.pipeline.certificate(ZJ_MARKET, network.good)["qr"]
    by_text = httpx.post(url, json={"qr_text": qr}, timeout=30)
    assert by_text.json()["verdict"] == "VALID"
    by_id = httpx.post(url, json={"issuer_id": ZJ_MARKET, "certificate_id": network.good})
    assert by_id.json()["verdict"] == "VALID"
    revoked = httpx.post(url, files={"file": ("r.pdf", network.pdf(network.revoked))}, timeout=30)
    reasons = {c["reason"] for c in revoked.json()["checks"]}
    assert revoked.json()["verdict"] == "INVALID"
    assert "REVOKED" in reasons
    english = httpx.post(f"{url}?lang=en", json={"qr_text": "https://x/v/AAAA"}).json()
    assert english["checks"][0]["message"] == "The QR code is not an ecert code."


def test_qr_page_and_upload_page(service: ServiceProcess, network: Network) -> None:
    qr = network.pipeline.certificate(ZJ_MARKET, network.good)["qr"]
    payload = qr.rsplit("/v/", 1)[1]
    page = httpx.get(f"{service.url}/v/{payload}")
    assert page.status_code == 200
    assert 'data-verdict="VALID"' in page.text
    assert "真实有效" in page.text
    assert 'lang="zh-CN"' in page.text
    english = httpx.get(f"{service.url}/v/{payload}?lang=en")
    assert "Genuine" in english.text
    # The visitor's province: ZJ's page answers for GD's recognition too (GD has no agreement
    # for ZJ's licences in this network), keeps it across the language switch and the report.
    assert '<label for="region">' in page.text
    assert '<select id="region" name="region">' in page.text
    there = httpx.get(f"{service.url}/v/{payload}?region=gd")
    assert 'data-verdict="NOT_RECOGNISED"' in there.text
    assert "广东省尚未认可浙江省签发的营业执照" in there.text
    assert '<option value="GD" selected>' in there.text
    assert f"/v/{payload}?lang=en&amp;region=GD" in there.text
    assert f"/v/{payload}/report.pdf?lang=zh&amp;region=GD" in there.text
    unknown = httpx.get(f"{service.url}/v/{payload}?region=XX")  # not a province: ZJ's own
    assert 'data-verdict="VALID"' in unknown.text
    unchosen = httpx.get(f"{service.url}/v/{payload}?lang=zh&region=")  # picker left as it was
    assert 'data-verdict="VALID"' in unchosen.text
    assert httpx.get(f"{service.url}/v/{payload}?region=G%3CD").status_code == 422
    report = httpx.get(f"{service.url}/v/{payload}/report.pdf?region=GD", timeout=30)
    assert report.status_code == 200
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=report.content, capture_output=True, check=True
    ).stdout.decode()
    assert "本省未认可" in text  # the report answers for the same province as the page
    bad = httpx.get(f"{service.url}/v/not-a-payload")
    assert bad.status_code == 200
    assert 'data-verdict="INVALID"' in bad.text
    upload = httpx.get(f"{service.url}/")
    assert 'type="file"' in upload.text
    form = httpx.post(
        f"{service.url}/verify",
        files={"file": ("c.pdf", network.pdf(network.good), "application/pdf")},
        timeout=30,
    )
    assert 'data-verdict="VALID"' in form.text


def test_malformed_requests_get_clean_4xx(service: ServiceProcess) -> None:
    url = f"{service.url}/api/v1/verify"
    assert httpx.post(url, content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
    assert (
        httpx.post(
            url, content=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 422
    )
    assert httpx.post(url, json={}).status_code == 422
    assert httpx.post(url, json={"qr_text": "x" * 5000}).status_code == 422
    assert (
        httpx.post(
            url, content=b"--x\r\n", headers={"Content-Type": "multipart/form-data; boundary=x"}
        ).status_code
        == 400
    )
    assert httpx.post(url, files={"other": ("a", b"b")}).status_code == 400
    assert httpx.post(url, files={"file": ("e.pdf", b"")}).status_code == 400
    huge = httpx.post(
        url, files={"file": ("h.pdf", b"%PDF-" + b"0" * (13 * 1024 * 1024))}, timeout=60
    )
    assert huge.status_code == 413
    garbage = httpx.post(url, files={"file": ("g.pdf", b"%PDF-1.7 garbage")})
    assert garbage.status_code == 200
    assert garbage.json()["verdict"] == "INVALID"
    noise = httpx.post(url, files={"file": ("n.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)})
    assert noise.json()["verdict"] == "INDETERMINATE"  # no readable QR: take it again
    assert "QR_UNREADABLE" in {c["reason"] for c in noise.json()["checks"]}
    assert httpx.get(f"{service.url}/v/{'A' * 3000}").status_code == 414
    assert httpx.get(f"{service.url}/?lang=fr").status_code == 422


def test_health_metrics_and_docs(service: ServiceProcess) -> None:
    health = httpx.get(f"{service.url}/healthz").json()
    assert health["region"] == "ZJ"
    assert health["ledger"]["node"] == "up"
    # Each of the two worker processes counts its own requests (as Prometheus expects of
    # separate targets); fresh connections reach both, and one of them verified the PDF.
    seen = []
    for _ in range(40):
        with httpx.Client() as client:
            seen.append(client.get(f"{service.url}/metrics").text)
        if 'ecert_verifier_verdicts_total{input="pdf",verdict="VALID"}' in seen[-1]:
            break
    metrics = seen[-1]
    assert "ecert_verifier_requests_total" in metrics
    assert 'ecert_verifier_verdicts_total{input="pdf",verdict="VALID"}' in metrics
    assert "ecert_verifier_request_seconds_bucket" in metrics
    assert httpx.get(f"{service.url}/docs").status_code == 200
    assert "/api/v1/verify" in httpx.get(f"{service.url}/openapi.json").json()["paths"]


def test_cli_verify_exit_codes(network: Network) -> None:
    def verify(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "cli.main",
                "verify",
                *args,
                "--config",
                str(network.config_path),
            ],
            capture_output=True,
            text=True,
            check=False,
            env={"ECERT_HOME": str(network.home), "PATH": "/usr/bin:/bin", "COLUMNS": "160"},
        )

    good = network.home / "good.pdf"
    good.write_bytes(network.pdf(network.good))
    ok = verify(str(good), "--region", "ZJ")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "真实有效" in ok.stdout
    revoked = network.home / "revoked.pdf"
    revoked.write_bytes(network.pdf(network.revoked))
    bad = verify(str(revoked), "--region", "ZJ", "--json")
    assert bad.returncode == 1
    assert '"REVOKED"' in bad.stdout
    qr = network.pipeline.certificate(ZJ_MARKET, network.good)["qr"]
    elsewhere = verify(qr, "--region", "GD")  # genuine, but GD has no agreement: exit 3
    assert elsewhere.returncode == 3, elsewhere.stdout + elsewhere.stderr
    assert "真实有效，但本省未认可" in elsewhere.stdout
    assert verify(f"{ZJ_MARKET}/{network.good}", "--region", "ZJ").returncode == 0
    assert verify("nonsense", "--region", "ZJ").returncode == 1
