"""The issuer service as a department uses it: a real HTTP server process, a real anvil node,
real PDFs checked by pyHanko, QR codes read back from 150-dpi renders by zxing-cpp, and the
faults that happen in real life (kill -9, the chain node going away)."""

from __future__ import annotations

import io
import logging
import os
import random
import selectors
import signal
import socket
import stat
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
from sqlalchemy import func, select, update

from issuer.checkpoints import CheckpointFile
from issuer.pipeline import Pipeline, Submission
from issuer.samples import department_id, sample_record
from issuer.sealing import SealedCertificate, SealingPool, SealJob
from issuer.site import DepartmentConfig, ProvinceConfig, Site, bootstrap_network
from issuer.store import Batch, Certificate, open_store
from issuer.tokens import create_token
from ledger.catalogue import validate
from ledger.chain import Chain
from ledger.errors import RegistryRefused
from ledger.index import RegistryIndex
from ledger.merkle import verify_proof
from ledger.node import AnvilNode, free_port
from ledger.registry import Registry
from tests.conftest import TEST_ONLY_SCRYPT_N
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
            scrypt_n=TEST_ONLY_SCRYPT_N,
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


def _submissions(n: int, seed: int = 1) -> list[Submission]:
    rng = random.Random(seed)
    until = (datetime.now(UTC) + timedelta(days=3650)).date()
    return [
        Submission(
            f"direct-{seed}-{i}", "BUSINESS_LICENCE", sample_record("BUSINESS_LICENCE", rng), until
        )
        for i in range(n)
    ]


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
    # A copy per thread: asn1crypto parses lazily, and not thread-safely.
    root = asn1_x509.Certificate.load(trust_root.dump())
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))
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
        estate = _auth(network.tokens["zj-estate-only"])
        unknown = "2026BL99999999"
        # Another department's certificate, one of a type outside the token and one that does
        # not exist all look the same: numbers cannot be probed.
        for who, number in ((gd, zj_cert), (estate, zj_cert), (gd, unknown)):
            for answer in (
                httpx.get(f"{url}/{number}", headers=who),
                httpx.get(f"{url}/{number}/pdf", headers=who),
                httpx.post(f"{url}/{number}/revoke", json={"reason": 4}, headers=who),
            ):
                assert (answer.status_code, answer.json()) == (
                    404,
                    {"detail": "no such certificate"},
                )
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
    assert "3 entries" in audit.stdout  # issued, anchored, revoked
    assert "covers entries 1-3" in audit.stdout


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
    assert "accepted 5, rejected 1, failed 0, waiting for the chain 0" in issued.stdout
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
    audit = subprocess.run(
        [sys.executable, "-m", "cli.main", "audit", "verify"],
        env={**os.environ, **network.env()},
        capture_output=True,
        text=True,
        check=False,
    )
    # checkpoints signed before the rotation by the old account, after it by the new one
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "2 signed checkpoints" in audit.stdout


# ---------------------------------------------------------------- hostile input and faults


def _proc_kb(pid: int, field: str) -> int:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of a process, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _raw_post(port: int, headers: dict[str, str], total: int, *, chunked: bool) -> tuple[int, int]:
    """POST ``total`` bytes of body as fast as the server takes them, and stop sending as soon
    as an answer arrives: ``(status, body bytes sent by then)``."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = "POST /api/v1/certificates HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += "Content-Type: application/json\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {total}\r\n"
    sent, piece = 0, b"[" * (1 << 20)
    answered = selectors.DefaultSelector()
    answered.register(sock, selectors.EVENT_READ)
    try:
        sock.sendall((head + "\r\n").encode())
        while sent < total and not answered.select(0):
            data = piece[: total - sent]
            sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n" if chunked else data)
            sent += len(data)
        answer = sock.recv(4096)
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        answer = b""
    finally:
        answered.close()
        sock.close()
    return (int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0), sent


def test_60_mb_posts_are_refused_before_they_are_read(network: Network) -> None:
    server = network.server("issuer-big.log").start()
    assert server.process is not None
    pid = server.process.pid
    mb = 1 << 20
    try:
        httpx.get(f"{server.url}/api/v1/proofs/{ZJ_MARKET}/x", timeout=10)  # warm up
        rss, peak = _proc_kb(pid, "VmRSS"), _proc_kb(pid, "VmHWM")
        token = {"Authorization": f"Bearer {network.tokens['zj']}"}
        cases = [
            ({}, False, 413),  # declared 60 MB, no token: refused on the header
            ({}, True, 401),  # chunked, no token: refused before the first byte is read
            ({"Authorization": "Bearer ecert_forged"}, True, 401),
            (token, True, 413),  # a good token, chunked: cut off just past 8 MiB
        ]
        with ThreadPoolExecutor(8) as pool:  # twice over, all at once
            answers = list(
                pool.map(
                    lambda c: (_raw_post(server.port, c[0], 60 * mb, chunked=c[1]), c), cases * 2
                )
            )
        print("sent before the answer (MB):", [round(a[0][1] / mb, 1) for a in answers])
        print("RSS growth (MB): peak", (_proc_kb(pid, "VmHWM") - peak) / 1024,
              "now", (_proc_kb(pid, "VmRSS") - rss) / 1024)  # fmt: skip
        for (status, sent), (_, _, expected) in answers:
            assert status == expected
            assert sent < 30 * mb  # answered long before the 60 MB were sent (socket buffers)
        assert _proc_kb(pid, "VmHWM") - peak < 100 * 1024, "peak RSS grew by 100 MB or more"
        assert _proc_kb(pid, "VmRSS") - rss < 100 * 1024
        # 1 MB of "[" from a department: within the size limit, but nested deep enough to
        # overflow the JSON parser's C stack; refused before any parser sees it.
        assert _raw_post(server.port, token, mb, chunked=False)[0] == 413
        assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
        assert len(_submit(server.url, network.tokens["zj"], _licences(1, "after"))) == 1
    finally:
        server.stop()
    assert "Traceback" not in server.log.read_text()


def test_clients_that_go_away_mid_body_cost_one_log_line_each(network: Network) -> None:
    server = network.server("issuer-gone.log").start()
    try:
        for _ in range(20):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                sock.sendall(
                    b"POST /api/v1/certificates HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 100000\r\n"
                    + f"Authorization: Bearer {network.tokens['zj']}\r\n\r\n".encode()
                    + b'{"certificates": ['
                )
                time.sleep(0.05)
        _wait_until(
            lambda: server.log.read_text().count("client went away") == 20, 10, "20 log lines"
        )
        assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
    finally:
        server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log
    gone = [line for line in log.splitlines() if "client went away" in line]
    assert len(gone) == 20
    for line in gone:  # one line each, in the service log's format
        assert line.endswith(
            "WARNING ecert.issuer.api: client went away: POST /api/v1/certificates "
            "(after 18 bytes of the body)"
        ), line


def test_the_command_line_and_the_service_share_one_home(network: Network, tmp_path: Path) -> None:
    import csv  # noqa: PLC0415

    rng = random.Random(11)
    data = tmp_path / "licences.csv"
    rows = [sample_record("BUSINESS_LICENCE", rng) for _ in range(8)]
    with data.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    server = network.server("issuer-shared.log").start()
    try:
        with ThreadPoolExecutor(1) as pool:
            api = pool.submit(_submit, server.url, network.tokens["zj"], _licences(20, "api", 7))
            issued = subprocess.run(
                [sys.executable, "-m", "cli.main", "issue", "--issuer", ZJ_MARKET, "--type",
                 "BUSINESS_LICENCE", "--data", str(data), "--out", str(tmp_path / "out"),
                 "--workers", "1"],
                env={**os.environ, **network.env(), "COLUMNS": "200"},
                capture_output=True, text=True, timeout=180, check=False,
            )  # fmt: skip
            assert len(api.result()) == 20
        assert issued.returncode == 0, issued.stdout + issued.stderr
        assert "Traceback" not in issued.stdout + issued.stderr
        assert "accepted 8, rejected 0, failed 0, waiting for the chain 0" in issued.stdout
        assert len(list((tmp_path / "out").glob("*.pdf"))) == 8
        _wait_until(lambda: _statuses(network.db_url) == {"ANCHORED": 28}, 60, "all anchored")
    finally:
        server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log
    assert "IntegrityError" not in log
    with open_store(network.db_url)() as session:
        batches = session.scalars(select(Batch)).all()
    assert _anchored_on_chain(network) == (len(batches), 28)  # nothing sealed or anchored twice
    home = network.home
    for private in ("issuer.sqlite", "issuer.sqlite-wal", "audit-checkpoints.jsonl"):
        assert stat.S_IMODE((home / private).stat().st_mode) == 0o600, private
    for folder in (home / "keys", home / "pki", home / "pki" / "departments" / ZJ_MARKET):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_a_refused_batch_is_failed_with_its_reason_and_new_records_are_refused(
    network: Network,
) -> None:
    site = Site(network.home, PASSWORD)
    pipeline = Pipeline(
        open_store(network.db_url),
        site.departments(),
        site.registry(),
        checkpoint_file=CheckpointFile(network.home / "audit-checkpoints.jsonl"),
    )
    (result,) = pipeline.submit(ZJ_MARKET, _submissions(1))
    pipeline.seal_pending()
    pipeline.close_batches(force=True)
    network.registry.suspend_issuer(site.keys.load("province-zj"), ZJ_MARKET)
    assert pipeline.anchor_pending().failed == 1
    env = {**os.environ, **network.env(), "COLUMNS": "200"}
    status = subprocess.run(
        [sys.executable, "-m", "cli.main", "status", result.certificate_id or "", "--issuer",
         ZJ_MARKET],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"{result.certificate_id}: FAILED" in status.stdout
    assert "the registry lists the issuer as suspended" in status.stdout
    assert "CertificateRegistryIssuerNotActive" in status.stdout
    server = network.server("issuer-suspended.log").start()
    try:
        refused = httpx.post(
            f"{server.url}/api/v1/certificates",
            json=_licences(1, "late"),
            headers=_auth(network.tokens["zj"]),
            timeout=30,
        )
        assert refused.status_code == 403
        assert "suspended" in refused.json()["detail"]
    finally:
        server.stop()
    audit = subprocess.run(
        [sys.executable, "-m", "cli.main", "audit", "verify"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "covers entries 1-2" in audit.stdout  # ISSUE, ANCHOR_FAILED


def test_a_sealing_pool_isolates_a_poisoned_record_and_outlives_a_killed_worker(
    network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    site = Site(network.home, PASSWORD)
    sessions = open_store(network.db_url)
    with SealingPool(network.home, PASSWORD, workers=2) as pool:
        pool.warm_up()
        pipeline = Pipeline(sessions, site.departments(), site.registry(), sealing_pool=pool)
        results = pipeline.submit(ZJ_MARKET, _submissions(12))
        poisoned = results[5].certificate_id or ""
        with sessions() as session:
            session.execute(
                update(Certificate)
                .where(Certificate.certificate_id == poisoned)
                .values(claims_secret=b"\x00" * 5)  # damaged after it was accepted
            )
            session.commit()
        counts = pipeline.run_once(force_batches=True)
        assert (counts.failed_certificates, counts.anchored_certificates) == (1, 11)
        reason = pipeline.certificate(ZJ_MARKET, poisoned)["failure_reason"]
        assert "MerkleError: the claims secret must be 32 bytes" in reason
        # A worker killed in the middle of a run, as the OOM killer would: nothing is lost.
        now = datetime.now(UTC).replace(microsecond=0)
        records = [sample_record("BUSINESS_LICENCE", random.Random(i)) for i in range(40)]
        jobs = [
            SealJob(10_000 + i, ZJ_MARKET, "BUSINESS_LICENCE", f"2026BL9{i:07d}",
                    validate("BUSINESS_LICENCE", record), os.urandom(32), now, now,
                    now + timedelta(days=30))
            for i, record in enumerate(records)
        ]  # fmt: skip
        outcomes = pool.seal(jobs)
        first = next(outcomes)
        with caplog.at_level(logging.WARNING, logger="ecert.issuer.sealing"):
            os.kill(next(iter(pool.worker_pids())), signal.SIGKILL)
            rest = list(outcomes)
        assert "a sealing process died" in caplog.text
    assert [o.pk for o in [first, *rest]] == [j.pk for j in jobs]
    assert all(isinstance(o, SealedCertificate) for o in [first, *rest])
    sessions.kw["bind"].dispose()
