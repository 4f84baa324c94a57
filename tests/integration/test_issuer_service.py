"""The issuer service as a department uses it: a real HTTP server process, a real anvil node,
real PDFs checked by pyHanko, QR codes read back from 150-dpi renders by zxing-cpp, and the
faults that happen in real life (kill -9, the chain node going away)."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import zxingcpp
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import func, select

from issuer.samples import department_id, sample_record
from issuer.site import DepartmentConfig, ProvinceConfig, Site, bootstrap_network
from issuer.store import Batch, Certificate, open_store
from issuer.tokens import create_token
from ledger.chain import Chain
from ledger.errors import RegistryRefused
from ledger.index import RegistryIndex
from ledger.merkle import verify_proof
from ledger.node import AnvilNode, free_port
from ledger.registry import Registry
from tests.integration.servers import ServiceProcess

pytestmark = pytest.mark.anvil

PASSWORD = "integration test password"
ZJ_MARKET = department_id("330000", "MB0000011")
GD_HOSPITAL = department_id("440000", "MB0000043")


@dataclass
class Network:
    home: Path
    node: AnvilNode
    registry: Registry
    deploy_block: int
    tokens: dict[str, str]
    db_url: str

    def env(self) -> dict[str, str]:
        return {
            "ECERT_HOME": str(self.home),
            "ECERT_KEY_PASSWORD": PASSWORD,
            "ECERT_ISSUER_DB": self.db_url,
        }

    def server(self, log_name: str) -> ServiceProcess:
        return ServiceProcess(
            "issuer",
            ["--batch-size", "10", "--batch-window", "0.3", "--max-backoff", "1"],
            self.env(),
            self.home / log_name,
        )


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    node = AnvilNode(tmp_path / "chain", port=free_port())
    node.start()
    try:
        chain = Chain.connect(node.rpc_url)
        config = bootstrap_network(
            tmp_path,
            PASSWORD,
            chain,
            [
                ProvinceConfig("ZJ", "浙江省", "https://zj.verify.ecert.example"),
                ProvinceConfig("GD", "广东省", "https://gd.verify.ecert.example"),
            ],
            [
                DepartmentConfig(
                    ZJ_MARKET, "浙江省市场监督管理局", "ZJ", ["BUSINESS_LICENCE", "REAL_ESTATE"]
                ),
                DepartmentConfig(GD_HOSPITAL, "广东省示范妇幼保健院", "GD", ["BIRTH_MEDICAL"]),
            ],
        )
        db_url = f"sqlite:///{tmp_path / 'issuer.sqlite'}"
        sessions = open_store(db_url)
        tokens = {
            "zj": create_token(sessions, ZJ_MARKET, ["BUSINESS_LICENCE", "REAL_ESTATE"], "case"),
            "zj-estate-only": create_token(sessions, ZJ_MARKET, ["REAL_ESTATE"], "estate"),
            "gd": create_token(sessions, GD_HOSPITAL, ["BIRTH_MEDICAL"], "ward"),
        }
        registry = Registry(chain, config.deployment.registry_address)
        yield Network(tmp_path, node, registry, config.deployment.deploy_block, tokens, db_url)
    finally:
        node.stop()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _licences(n: int, prefix: str, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    until = (datetime.now(UTC) + timedelta(days=3650)).date().isoformat()
    return {
        "certificates": [
            {
                "reference": f"{prefix}-{i}",
                "cert_type": "BUSINESS_LICENCE",
                "claims": sample_record("BUSINESS_LICENCE", rng),
                "valid_until": until,
            }
            for i in range(n)
        ]
    }


def _submit(url: str, token: str, body: dict[str, Any]) -> list[str]:
    response = httpx.post(f"{url}/api/v1/certificates", json=body, headers=_auth(token), timeout=60)
    assert response.status_code == 202, response.text
    return [r["certificate_id"] for r in response.json()["results"]]


def _wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _statuses(db_url: str) -> dict[str, int]:
    with open_store(db_url)() as session:
        rows = session.execute(
            select(Certificate.status, func.count()).group_by(Certificate.status)
        ).all()
    return {str(status): int(count) for status, count in rows}


def _anchored_on_chain(network: Network) -> tuple[int, int]:
    """(anchor events, certificates anchored) for ZJ-MARKET, straight from the chain."""
    index = RegistryIndex(
        ":memory:", registry_address=network.registry.address, start_block=network.deploy_block
    )
    index.sync(network.registry)
    with open_store(network.db_url)() as session:
        roots = session.scalars(select(Batch.root)).all()
    anchors = [index.anchor_of(ZJ_MARKET, root) for root in roots]
    assert all(a is not None for a in anchors)
    return index.anchor_count(), sum(a.leaf_count for a in anchors if a is not None)


def _check_pdf_and_qr(
    pdf: bytes, qr_text: str, trust_root: asn1_x509.Certificate, workdir: Path, name: str
) -> None:
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[trust_root]))
    assert (status.intact, status.trusted, status.coverage.name) == (True, True, "ENTIRE_FILE")
    source = workdir / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(source), str(workdir / name)],
        check=True,
    )
    found = zxingcpp.read_barcodes(
        Image.open(workdir / f"{name}.png"), formats=zxingcpp.BarcodeFormat.QRCode
    )
    # zxing-cpp now and then also "finds" a short numeric code in the page's fine print; what
    # matters is that exactly one verification link is on the page, and it is this one.
    assert [b.text for b in found if "/v/" in b.text] == [qr_text]


def test_100_certificates_through_the_api_reach_anchored_and_check_out(
    network: Network, tmp_path: Path
) -> None:
    server = network.server("issuer-100.log").start()
    try:
        ids = _submit(server.url, network.tokens["zj"], _licences(50, "a", 1))
        ids += _submit(server.url, network.tokens["zj"], _licences(50, "b", 2))
        assert len(set(ids)) == 100
        _wait_until(lambda: _statuses(network.db_url).get("ANCHORED") == 100, 120, "anchoring")
        roots_pem = tmp_path / "roots.pem"
        subprocess.run(
            [sys.executable, "-m", "cli.main", "trust", "roots", "--out", str(roots_pem)],
            env={**server.env},
            check=True,
            capture_output=True,
        )
        _, _, der = pem.unarmor(roots_pem.read_bytes())
        trust_root = asn1_x509.Certificate.load(der)
        views = [
            httpx.get(
                f"{server.url}/api/v1/certificates/{c}",
                headers=_auth(network.tokens["zj"]),
                timeout=30,
            ).json()
            for c in ids
        ]
        pdfs = [
            httpx.get(
                f"{server.url}/api/v1/certificates/{c}/pdf",
                headers=_auth(network.tokens["zj"]),
                timeout=30,
            ).content
            for c in ids
        ]
        renders = tmp_path / "renders"
        renders.mkdir()
        with ThreadPoolExecutor(2) as pool:
            list(
                pool.map(
                    lambda i: _check_pdf_and_qr(
                        pdfs[i], views[i]["qr"], trust_root, renders, ids[i]
                    ),
                    range(100),
                )
            )
        for view in views:
            proof = view["proof"]
            root, leaf = bytes.fromhex(proof["root"]), bytes.fromhex(proof["leaf"])
            siblings = [bytes.fromhex(s) for s in proof["siblings"]]
            assert verify_proof(root, leaf, siblings)
            anchor = network.registry.anchor_of(ZJ_MARKET, root)
            assert anchor is not None
            assert anchor.issuer_id == ZJ_MARKET
        public = httpx.get(f"{server.url}/api/v1/proofs/{ZJ_MARKET}/{ids[0]}", timeout=10).json()
        assert public["root"] == views[0]["proof"]["root"]
        assert public["siblings"] == views[0]["proof"]["siblings"]
        assert "claims" not in public  # hashes and codes only
        assert _anchored_on_chain(network) == (10, 100)
    finally:
        server.stop()


def test_tokens_are_scoped_to_their_department_and_types(network: Network) -> None:
    server = network.server("issuer-security.log").start()
    try:
        (zj_cert,) = _submit(server.url, network.tokens["zj"], _licences(1, "sec"))
        _wait_until(lambda: _statuses(network.db_url).get("ANCHORED") == 1, 60, "anchoring")
        before = _statuses(network.db_url)
        url = f"{server.url}/api/v1/certificates"
        assert httpx.post(url, json=_licences(1, "x")).status_code == 401
        assert (
            httpx.post(
                url, json=_licences(1, "x"), headers=_auth("ecert_not-a-real-token")
            ).status_code
            == 401
        )
        wrong_type = httpx.post(
            url, json=_licences(1, "x"), headers=_auth(network.tokens["zj-estate-only"])
        )
        assert wrong_type.status_code == 403
        gd = _auth(network.tokens["gd"])
        assert httpx.get(f"{url}/{zj_cert}", headers=gd).status_code == 403
        assert httpx.get(f"{url}/{zj_cert}/pdf", headers=gd).status_code == 403
        revoke = httpx.post(f"{url}/{zj_cert}/revoke", json={"reason": 4}, headers=gd)
        assert revoke.status_code == 403
        gd_as_zj = httpx.post(url, json=_licences(1, "y"), headers=gd)
        assert gd_as_zj.status_code == 403  # a hospital token cannot issue business licences
        assert _statuses(network.db_url) == before  # nothing changed
        view = httpx.get(f"{url}/{zj_cert}", headers=_auth(network.tokens["zj"])).json()
        proof = view["proof"]
        assert (
            network.registry.certificate_revocation(
                ZJ_MARKET, bytes.fromhex(proof["root"]), bytes.fromhex(proof["leaf"])
            )
            is None
        )
        ok = httpx.post(
            f"{url}/{zj_cert}/revoke", json={"reason": 4}, headers=_auth(network.tokens["zj"])
        )
        assert ok.status_code == 200
        assert ok.json()["status"] == "REVOKED"
    finally:
        server.stop()
    audit = subprocess.run(
        [sys.executable, "-m", "cli.main", "audit", "verify"],
        env=server.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "2 entries" in audit.stdout


def test_kill_9_at_several_points_loses_nothing_and_anchors_nothing_twice(
    network: Network,
) -> None:
    server = network.server("issuer-kill.log").start()
    ids = _submit(server.url, network.tokens["zj"], _licences(30, "k1", 3))
    server.kill9()  # right after acknowledging: nothing sealed yet, maybe
    server.start()
    ids += _submit(server.url, network.tokens["zj"], _licences(30, "k2", 4))
    _wait_until(
        lambda: (
            _statuses(network.db_url).get("SEALED", 0) + _statuses(network.db_url).get("BATCHED", 0)
            > 0
        ),
        60,
        "some sealing",
    )
    server.kill9()  # in the middle of sealing and batching
    server.start()
    _wait_until(lambda: _statuses(network.db_url).get("ANCHORED", 0) > 0, 60, "some anchoring")
    server.kill9()  # in the middle of anchoring
    server.start()
    try:
        again = _submit(server.url, network.tokens["zj"], _licences(30, "k1", 3))
        assert again == ids[:30]  # resubmitting acknowledged references changes nothing
        _wait_until(lambda: _statuses(network.db_url) == {"ANCHORED": 60}, 120, "all anchored")
    finally:
        server.stop()
    assert len(set(ids)) == 60
    with open_store(network.db_url)() as session:
        batches = session.scalars(select(Batch)).all()
    events, anchored = _anchored_on_chain(network)
    assert events == len(batches)  # one anchor per batch, none twice
    assert anchored == 60


def test_chain_down_mid_run_then_everything_anchors_when_it_returns(network: Network) -> None:
    server = network.server("issuer-offline.log").start()
    try:
        first = _submit(server.url, network.tokens["zj"], _licences(10, "on", 5))
        _wait_until(lambda: _statuses(network.db_url).get("ANCHORED") == 10, 60, "anchoring")
        network.node.stop()
        later = _submit(server.url, network.tokens["zj"], _licences(25, "off", 6))
        assert len(later) == 25  # still accepted while the chain is away
        _wait_until(
            lambda: _statuses(network.db_url).get("BATCHED") == 25, 60, "sealing while offline"
        )
        time.sleep(1.5)
        assert _statuses(network.db_url) == {"ANCHORED": 10, "BATCHED": 25}
        network.node.start()
        _wait_until(
            lambda: _statuses(network.db_url) == {"ANCHORED": 35},
            60,
            "anchoring after the node returned",
        )
    finally:
        server.stop()
    assert len(set(first + later)) == 35
    assert _anchored_on_chain(network)[1] == 35


def test_issue_status_and_revoke_from_the_command_line(network: Network, tmp_path: Path) -> None:
    import csv  # noqa: PLC0415

    rng = random.Random(9)
    rows = [sample_record("BUSINESS_LICENCE", rng) for _ in range(5)]
    rows.append({**rows[0], "uscc": "91330106MA00000000"})  # wrong check character
    data = tmp_path / "licences.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "out"
    env = {**network.env(), "COLUMNS": "200"}

    def ecert(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    issued = ecert(
        "issue",
        "--issuer",
        ZJ_MARKET,
        "--type",
        "BUSINESS_LICENCE",
        "--data",
        str(data),
        "--out",
        str(out),
        "--workers",
        "2",
    )
    assert issued.returncode == 1, issued.stdout + issued.stderr  # one record refused
    assert "licences.csv:7" in issued.stderr
    assert "uscc" in issued.stderr
    pdfs = sorted(out.glob("*.pdf"))
    assert len(pdfs) == 5
    assert len(list(out.glob("*-qr.png"))) == 5
    assert "accepted 5, rejected 1, waiting for the chain 0" in issued.stdout
    certificate_id = pdfs[0].stem
    status = ecert("status", certificate_id, "--issuer", ZJ_MARKET, "--json")
    assert status.returncode == 0
    assert '"ANCHORED"' in status.stdout
    revoked = ecert("revoke", certificate_id, "--issuer", ZJ_MARKET, "--reason", "4")
    assert revoked.returncode == 0, revoked.stdout + revoked.stderr
    again = ecert(
        "issue",
        "--issuer",
        ZJ_MARKET,
        "--type",
        "BUSINESS_LICENCE",
        "--data",
        str(data),
        "--out",
        str(out),
    )
    assert "accepted 5, rejected 1" in again.stdout  # the same five, not five more
    assert _statuses(network.db_url) == {"ANCHORED": 4, "REVOKED": 1}


def test_rotating_seal_and_account_keeps_earlier_certificates_valid(network: Network) -> None:
    server = network.server("issuer-rotate-1.log").start()
    try:
        (before,) = _submit(server.url, network.tokens["zj"], _licences(1, "old"))
        _wait_until(lambda: _statuses(network.db_url).get("ANCHORED") == 1, 60, "anchoring")
        old_view = httpx.get(
            f"{server.url}/api/v1/certificates/{before}", headers=_auth(network.tokens["zj"])
        ).json()
        old_pdf = httpx.get(
            f"{server.url}/api/v1/certificates/{before}/pdf", headers=_auth(network.tokens["zj"])
        ).content
    finally:
        server.stop()
    site = Site(network.home, PASSWORD)
    old_fp = site.pki.seal_fingerprint(ZJ_MARKET)
    old_account = site.department(ZJ_MARKET).account
    for command in ("rotate-seal", "rotate-account"):
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", "pki", command, "--issuer", ZJ_MARKET],
            env={**os.environ, **network.env()},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    server = network.server("issuer-rotate-2.log").start()
    try:
        (after,) = _submit(server.url, network.tokens["zj"], _licences(1, "new"))
        _wait_until(lambda: _statuses(network.db_url).get("ANCHORED") == 2, 60, "anchoring")
    finally:
        server.stop()
    registry = network.registry
    old_anchor = registry.anchor_of(ZJ_MARKET, bytes.fromhex(old_view["proof"]["root"]))
    assert old_anchor is not None
    assert old_anchor.issuer_id == ZJ_MARKET  # history untouched
    old_seal = registry.seal_certificate(old_fp)
    assert old_seal is not None
    assert old_seal.until_block is not None
    assert old_seal.current_at(old_anchor.block_number)
    issuer = registry.issuer(ZJ_MARKET)
    assert issuer is not None
    assert issuer.seal_cert_fingerprint == Site(network.home, PASSWORD).pki.seal_fingerprint(
        ZJ_MARKET
    )
    assert issuer.account != old_account.address
    with pytest.raises(RegistryRefused, match="NotAnIssuer"):
        registry.anchor(old_account, b"\x01" * 32, 1, "BUSINESS_LICENCE")
    _, _, der = pem.unarmor((network.home / "pki" / "root.cert.pem").read_bytes())
    signature = PdfFileReader(io.BytesIO(old_pdf)).embedded_signatures[0]
    status = validate_pdf_signature(
        signature, ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)])
    )
    assert status.bottom_line  # the earlier certificate still validates
    assert after != before
