"""Verdicts that stay right when the node, the network or the index fail: a real anvil node
behind a real HTTP proxy that turns faulty (502 to everything, HTML, non-JSON-RPC replies, JSON
nested 100,000 deep), a locked index file, a hostile trust-bundle peer. The background syncer
survives each and recovers; answers follow the data's age, so a certificate revoked while the
verifier could not sync is never VALID once its data is older than ``max_stale_seconds``."""

from __future__ import annotations

import http.server
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from ledger.bundle import FORMAT as BUNDLE_FORMAT
from ledger.codes import RevocationReason
from ledger.node import free_port
from tests.integration.proxy import FaultyProxy
from tests.integration.servers import ServiceProcess
from tests.verifier.conftest import ZJ_MARKET, Network
from verifier.config import VerifierConfig, build_verifier
from verifier.result import Verdict
from verifier.sync import IndexSyncer

pytestmark = pytest.mark.anvil

MAX_STALE = 3.0


@pytest.fixture
def proxy(network: Network) -> Iterator[FaultyProxy]:
    server = FaultyProxy(network.node.rpc_url).start()
    yield server
    server.stop()


def _config(network: Network, proxy: FaultyProxy, folder: Path, **changes: object) -> Path:
    config = replace(
        VerifierConfig.load(network.config_path),
        rpc_url=proxy.url,
        index_dir=str(folder),
        max_stale_seconds=MAX_STALE,
        **changes,  # type: ignore[arg-type]
    )
    path = network.home / f"verifier-{folder.name}.json"
    config.save(path)
    return path


def _until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.2)


def _verify_cli(network: Network, config: Path, target: str) -> tuple[int, dict[str, object], str]:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "verify", target, "--json", "--region", "ZJ",
         "--config", str(config)],
        capture_output=True, text=True, check=False, timeout=120,
        env={"ECERT_HOME": str(network.home), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    return done.returncode, json.loads(done.stdout), done.stderr


def test_revoked_while_the_node_is_behind_a_failing_proxy_is_never_valid_once_stale(
    network: Network, proxy: FaultyProxy, tmp_path: Path
) -> None:
    number = network.issue_one("revoked-behind-a-proxy")
    qr = network.pipeline.certificate(ZJ_MARKET, number)["qr"]
    payload = qr.rsplit("/v/", 1)[1]
    config = _config(network, proxy, tmp_path / "service")
    service = ServiceProcess(
        "verifier",
        ["--region", "ZJ", "--config", str(config)],
        {"ECERT_HOME": str(network.home)},
        tmp_path / "service.log",
    ).start()
    api = f"{service.url}/api/v1/verify"

    def verdict() -> tuple[str, set[str]]:
        body = httpx.post(api, json={"qr_text": qr}, timeout=30).json()
        return body["verdict"], {c["reason"] for c in body["checks"] if c["reason"]}

    try:
        assert verdict()[0] == "VALID"
        proxy.mode = "502"
        failed_at = time.monotonic()
        network.pipeline.revoke(ZJ_MARKET, number, RevocationReason.KEY_COMPROMISE)
        stale_by = failed_at + MAX_STALE + 1.0 + 0.5  # max_stale + one sync interval + slack
        time.sleep(max(0.0, stale_by - time.monotonic()))
        for _ in range(5):  # and it stays so: never VALID from data this old
            answer, reasons = verdict()
            assert answer == "INDETERMINATE", reasons
            assert "CHAIN_UNAVAILABLE" in reasons
            time.sleep(0.3)
        page = httpx.get(f"{service.url}/v/{payload}", timeout=30).text
        assert 'data-verdict="INDETERMINATE"' in page
        health = httpx.get(f"{service.url}/healthz", timeout=10).json()
        assert health["syncer_alive"] is True
        assert health["sync"]["consecutive_failures"] >= 2
        assert "HTTPError" in health["sync"]["last_error"], health
        assert health["ledger"]["age_seconds"] > MAX_STALE
        metrics = httpx.get(f"{service.url}/metrics", timeout=10).text
        assert "ecert_verifier_sync_consecutive_failures" in metrics

        # `ecert verify` with the same configuration answers the same, without a traceback.
        code, body, stderr = _verify_cli(network, config, qr)
        assert (code, body["verdict"]) == (2, "INDETERMINATE")
        assert "Traceback" not in stderr

        proxy.mode = "forward"  # the node answers again: the revocation is seen

        def revoked() -> bool:
            answer, reasons = verdict()
            return answer == "INVALID" and "REVOKED" in reasons

        _until(revoked, 20, "the revocation seen once the node answers again")
        assert httpx.get(f"{service.url}/healthz").json()["sync"]["consecutive_failures"] == 0
    finally:
        service.stop()
    log = (tmp_path / "service.log").read_text(errors="replace")
    assert "Traceback" not in log
    assert log.count("registry sync failed") == 1  # once per kind of failure, not per attempt


def test_a_verifier_with_only_a_failing_proxy_is_indeterminate(
    network: Network, proxy: FaultyProxy, tmp_path: Path
) -> None:
    """Never synced (or synced too long ago) and no trust bundle: could not check."""
    proxy.mode = "502"
    config = _config(network, proxy, tmp_path / "never")
    pdf = tmp_path / "good.pdf"
    pdf.write_bytes(network.pdf(network.good))
    code, body, stderr = _verify_cli(network, config, str(pdf))
    assert (code, body["verdict"]) == (2, "INDETERMINATE")
    reasons = {c["reason"] for c in body["checks"]}  # type: ignore[union-attr]
    assert "CHAIN_UNAVAILABLE" in reasons
    assert "Traceback" not in stderr
    # The seal was checked (it needs no chain): only "could not ask" keeps it from VALID.
    statuses = {c["name"]: c["status"] for c in body["checks"]}  # type: ignore[union-attr]
    assert statuses["seal.intact"] == "VALID"


class _HostilePeer:
    """A 'peer verifier' serving a trust bundle whose block is 1e400."""

    def __init__(self) -> None:
        bundle = {
            "format": BUNDLE_FORMAT,
            "registry": "0x" + "00" * 20,
            "chain_id": 31337,
            "block": "x",
            "block_hash": "00" * 32,
            "block_time": 0,
            "tables": {},
        }
        text = json.dumps({"bundle": bundle, "signers": ["ZJ"], "signature": "00" * 96})
        body = text.replace('"x"', "1e400").encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_syncer_survives_every_kind_of_failure_and_recovers(
    network: Network, proxy: FaultyProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    peer = _HostilePeer()
    path = _config(
        network,
        proxy,
        tmp_path / "syncer",
        trust_bundles=[f"http://127.0.0.1:{peer.port}/api/v1/bundle"],
    )
    verifier = build_verifier(VerifierConfig.load(path), path, region="ZJ")
    syncer = IndexSyncer(verifier.chain, interval=0.2, bundle_interval=0.2, max_backoff=0.5)
    syncer.start()
    qr = network.pipeline.certificate(ZJ_MARKET, network.good)["qr"]
    try:

        def fails_with(kind: str) -> None:
            rounds = syncer.rounds
            _until(
                lambda: (
                    syncer.rounds >= rounds + 2 and kind in (verifier.chain.health.last_error or "")
                ),
                15,
                f"a failed sync with {kind}",
            )
            assert syncer.alive

        for mode, kind in (
            ("502", "HTTPError"),
            ("garbage", "malformed reply"),
            ("not-jsonrpc", "malformed reply"),
            ("deep", "malformed reply"),  # would overflow the C stack: a dead process
        ):
            proxy.mode = mode
            fails_with(kind)
        proxy.mode = "forward"

        # Another process holds the index file's write lock ("database is locked").
        locker = sqlite3.connect(verifier.chain.index.path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            fails_with("OperationalError")
        finally:
            locker.execute("ROLLBACK")
            locker.close()

        # A bug nobody foresaw, inside the sync itself.
        calls = {"n": 0}
        real_sync = verifier.chain.index.sync

        def buggy(*args: object, **kwargs: object) -> object:
            calls["n"] += 1
            if calls["n"] <= 2:
                raise RuntimeError("something nobody foresaw")
            return real_sync(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(verifier.chain.index, "sync", buggy)
        fails_with("RuntimeError")

        bundles = verifier.chain.bundles
        assert bundles is not None
        _until(lambda: bool(bundles.problems), 10, "the hostile bundle refused")
        assert "FORMAT" in next(iter(bundles.problems.values()))

        # Recovered: syncing again, data fresh, answers VALID from live data.
        _until(lambda: verifier.chain.health.consecutive_failures == 0, 15, "a successful sync")
        assert syncer.alive
        report = verifier.verify_qr_text(qr)
        assert report.verdict is Verdict.VALID, report.to_json("en")
        assert report.freshness.age_seconds is not None
        assert report.freshness.age_seconds < MAX_STALE
        assert verifier.chain.health.failures_total >= 6
    finally:
        syncer.stop()
        peer.stop()
