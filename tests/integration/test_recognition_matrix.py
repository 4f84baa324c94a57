"""Cross-province recognition, end to end: certificates issued in three provinces, each checked
by all three provinces' verifiers running as separate processes on 127.0.0.1. Every cell of the
matrix matches the agreements on chain; withdrawing one (``ecert network recognise
--withdraw``) flips exactly the affected cells on the next verification."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from issuer.pipeline import Pipeline, Submission
from issuer.samples import department_id, sample_record
from issuer.site import DepartmentConfig, ProvinceConfig, Site, bootstrap_network
from issuer.store import open_store
from ledger.chain import Chain
from ledger.node import AnvilNode, free_port
from tests.conftest import TEST_ONLY_SCRYPT_N
from tests.integration.servers import ServiceProcess
from verifier.config import VerifierConfig

pytestmark = pytest.mark.anvil

PASSWORD = "recognition matrix password"
PROVINCES = ["ZJ", "JS", "GD"]
DEPARTMENTS = {
    "ZJ": (department_id("330000", "MB0000011"), "浙江省市场监督管理局", "BUSINESS_LICENCE"),
    "JS": (department_id("320000", "MB0000035"), "南京示范大学", "DEGREE_CERT"),
    "GD": (department_id("440000", "MB0000043"), "广东省示范妇幼保健院", "BIRTH_MEDICAL"),
}
# GD recognises ZJ's business licences and JS's degrees; JS recognises ZJ's licences; ZJ
# recognises nobody's birth certificates: gaps on purpose.
AGREEMENTS = {
    ("GD", "ZJ", "BUSINESS_LICENCE"),
    ("GD", "JS", "DEGREE_CERT"),
    ("JS", "ZJ", "BUSINESS_LICENCE"),
    ("ZJ", "JS", "DEGREE_CERT"),
}


@dataclass
class Consortium:
    home: Path
    qr: dict[str, str]
    """Issuing province → QR text of its certificate."""
    verifiers: dict[str, ServiceProcess]


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consortium]:
    home = tmp_path_factory.mktemp("matrix")
    node = AnvilNode(home / "chain", port=free_port())
    node.start()
    verifiers: dict[str, ServiceProcess] = {}
    try:
        config = bootstrap_network(
            home,
            PASSWORD,
            Chain.connect(node.rpc_url),
            [ProvinceConfig(c, c, f"https://{c.lower()}.verify.example") for c in PROVINCES],
            [
                DepartmentConfig(issuer_id, name, code, [cert_type])
                for code, (issuer_id, name, cert_type) in DEPARTMENTS.items()
            ],
            recognitions=sorted(AGREEMENTS),
            scrypt_n=TEST_ONLY_SCRYPT_N,
        )
        site = Site(home, PASSWORD)
        pipeline = Pipeline(
            open_store(f"sqlite:///{home / 'issuer.sqlite'}"), site.departments(), site.registry()
        )
        until = (datetime.now(UTC) + timedelta(days=365)).date()
        numbers = {}
        for code, (issuer_id, _name, cert_type) in DEPARTMENTS.items():
            record = sample_record(cert_type, random.Random(code), code)
            expires = until if cert_type == "BUSINESS_LICENCE" else None  # degrees never do
            (result,) = pipeline.submit(
                issuer_id, [Submission(f"m-{code}", cert_type, record, expires)]
            )
            assert result.accepted, result.errors
            numbers[code] = result.certificate_id or ""
        pipeline.seal_pending()
        pipeline.close_batches(force=True)
        pipeline.anchor_pending()
        qr = {}
        for code, (issuer_id, _name, _type) in DEPARTMENTS.items():
            folder = home / "proofs" / issuer_id
            folder.mkdir(parents=True)
            (folder / f"{numbers[code]}.json").write_text(
                json.dumps(pipeline.public_proof(issuer_id, numbers[code]))
            )
            qr[code] = str(pipeline.certificate(issuer_id, numbers[code])["qr"])
        site.pki.export_roots(home / "roots.pem")
        VerifierConfig(
            rpc_url=node.rpc_url,
            registry_address=config.deployment.registry_address,
            deploy_block=config.deployment.deploy_block,
            trust_roots="roots.pem",
            proof_directories={"*": "proofs"},
        ).save(home / "verifier.json")
        for code in PROVINCES:
            verifiers[code] = ServiceProcess(
                "verifier",
                ["--region", code, "--config", str(home / "verifier.json")],
                {"ECERT_HOME": str(home)},
                home / f"verifier-{code}.log",
            ).start()
        yield Consortium(home, qr, verifiers)
    finally:
        for server in verifiers.values():
            server.stop()
        node.stop()


def _cell(consortium: Consortium, verifying: str, issuing: str) -> tuple[str, set[str]]:
    answer = httpx.post(
        f"{consortium.verifiers[verifying].url}/api/v1/verify",
        json={"qr_text": consortium.qr[issuing]},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    failed = {c["reason"] for c in body["checks"] if c["status"] in ("INVALID", "ERROR")}
    return body["verdict"], failed


def _expected(verifying: str, issuing: str, agreements: set[tuple[str, str, str]]) -> str:
    cert_type = DEPARTMENTS[issuing][2]
    return (
        "VALID"
        if verifying == issuing or (verifying, issuing, cert_type) in agreements
        else "NOT_RECOGNISED"  # genuine, told apart from a forgery
    )


def test_every_cell_follows_the_agreements_and_a_withdrawal_flips_its_cell(
    consortium: Consortium,
) -> None:
    for verifying in PROVINCES:
        for issuing in PROVINCES:
            verdict, reasons = _cell(consortium, verifying, issuing)
            assert verdict == _expected(verifying, issuing, AGREEMENTS), (verifying, issuing)
            if verdict == "NOT_RECOGNISED":
                assert reasons == {"NOT_RECOGNISED"}, (verifying, issuing, reasons)

    withdrawn = subprocess.run(
        [
            sys.executable, "-m", "cli.main", "network", "recognise",
            "GD", "ZJ", "BUSINESS_LICENCE", "--withdraw",
        ],
        env={"PATH": "/usr/bin:/bin", "ECERT_HOME": str(consortium.home),
             "ECERT_KEY_PASSWORD": PASSWORD},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert withdrawn.returncode == 0, withdrawn.stderr
    remaining = AGREEMENTS - {("GD", "ZJ", "BUSINESS_LICENCE")}
    deadline = time.monotonic() + 15
    while _cell(consortium, "GD", "ZJ")[0] != "NOT_RECOGNISED":  # verifiers sync each second
        assert time.monotonic() < deadline, "GD's verifier never saw the withdrawal"
        time.sleep(0.2)
    for verifying in PROVINCES:
        for issuing in PROVINCES:
            verdict, _reasons = _cell(consortium, verifying, issuing)
            assert verdict == _expected(verifying, issuing, remaining), (verifying, issuing)

    # The page a GD clerk sees says which agreement is missing.
    payload = consortium.qr["ZJ"].rsplit("/v/", 1)[1]
    page = httpx.get(f"{consortium.verifiers['GD'].url}/v/{payload}", timeout=30).text
    assert 'data-verdict="NOT_RECOGNISED"' in page
    assert "证照真实有效，但GD尚未认可ZJ签发的营业执照。这不是伪造。" in page  # names as registered

    shown = subprocess.run(
        [sys.executable, "-m", "cli.main", "network", "matrix", "--type", "BUSINESS_LICENCE"],
        env={"PATH": "/usr/bin:/bin", "ECERT_HOME": str(consortium.home),
             "ECERT_KEY_PASSWORD": PASSWORD, "COLUMNS": "120"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    rows = {line.split("│")[1].strip(): line for line in shown.stdout.splitlines() if "│" in line}
    assert "✘" in rows["GD"].split("│")[2]  # GD no longer recognises ZJ
    assert "✔" in rows["JS"].split("│")[2]  # JS still does
