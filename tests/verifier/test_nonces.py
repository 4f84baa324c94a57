"""The nonce book under a flood: a per-client rate limit (429 with Retry-After), a cap on
outstanding nonces, an index on expiry, writes that never hold the event loop (a nonce waiting
for SQLite's lock while ``/healthz`` answers at once), and a verifier that requires its nonce."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from tests.integration.servers import ServiceProcess
from tests.verifier.conftest import Network
from tests.verifier.test_presentations import SHOWN, Held
from verifier.config import VerifierConfig
from verifier.nonces import NonceBook, NonceBookFull, NoncePolicy, NonceState, RateLimiter
from verifier.reasons import ReasonCode
from verifier.result import Status, Verdict

pytestmark = pytest.mark.anvil


def test_the_rate_limit_is_a_token_bucket_per_client() -> None:
    limiter = RateLimiter(rate=5.0, burst=3, max_keys=2)
    assert [limiter.admit("a", now=0.0) for _ in range(3)] == [None, None, None]
    assert limiter.admit("a", now=0.0) == pytest.approx(0.2)
    assert limiter.admit("b", now=0.0) is None  # another client has its own bucket
    assert limiter.admit("a", now=0.2) is None  # one token back after 1/rate
    limiter.admit("c", now=0.2)  # a third key: the least recently seen ("b") forgotten
    assert set(limiter._buckets) == {"a", "c"}


def test_the_book_caps_outstanding_nonces_and_indexes_expiry(tmp_path: Path) -> None:
    path = tmp_path / "nonces.sqlite"
    book = NonceBook(path, policy=NoncePolicy(max_outstanding=50))
    other = NonceBook(path, policy=NoncePolicy(max_outstanding=50))  # another worker
    try:
        issued = [book.issue()[0] for _ in range(30)]
        time.sleep(1.1)  # the next clean-up counts what the other process issued too
        for _ in range(20):
            other.issue()
        with pytest.raises(NonceBookFull):
            book.issue()
        assert book.consume(issued[0]) is NonceState.FRESH  # a used one is no longer outstanding
        assert book.consume(issued[0]) is NonceState.REPLAYED
        time.sleep(1.1)
        book.issue()
    finally:
        book.close()
        other.close()
    with sqlite3.connect(path) as db:
        plan = db.execute(
            "EXPLAIN QUERY PLAN DELETE FROM nonces WHERE expires < ?", (0.0,)
        ).fetchall()
    assert "USING INDEX nonces_expires" in " ".join(str(row) for row in plan)


@pytest.fixture(scope="module")
def strict(network: Network, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A verifier that requires its nonce, one worker, its own index and nonce book."""
    home = tmp_path_factory.mktemp("strict")
    config = {
        **asdict(VerifierConfig.load(network.config_path)),
        "trust_roots": str(network.home / "roots.pem"),
        "proof_directories": {"*": str(network.home / "proofs")},
        "require_nonce": True,
        "nonce_rate_per_client": 2.0,
        "nonce_burst": 5,
    }
    VerifierConfig(**config).save(home / "verifier.json")
    server = ServiceProcess(
        "verifier",
        ["--region", "ZJ", "--config", str(home / "verifier.json")],
        {"ECERT_HOME": str(network.home)},
        home / "verifier.log",
    )
    server.start()
    yield server
    server.stop()


def test_a_flood_of_nonce_requests_gets_429_with_retry_after(strict: ServiceProcess) -> None:
    url = f"{strict.url}/api/v1/nonce"
    with httpx.Client(timeout=10) as client:
        answers = [client.post(url) for _ in range(30)]
    codes = [a.status_code for a in answers]
    assert codes[:5] == [200] * 5  # the burst
    assert codes.count(200) <= 7
    refused = [a for a in answers if a.status_code == 429]
    assert refused
    assert all(a.headers["retry-after"].isdigit() for a in refused)
    assert "too many nonces" in refused[0].json()["detail"]
    time.sleep(1.0)
    assert httpx.post(url, timeout=10).status_code == 200  # refilled at 2 a second


def test_a_nonce_waiting_for_sqlite_never_holds_the_event_loop(strict: ServiceProcess) -> None:
    """Another process holds the nonce book's write lock for 1.5 s: the nonce waits for it,
    ``/healthz`` on the same worker does not."""
    db = sqlite3.connect(
        Path(strict.args[strict.args.index("--config") + 1]).parent / "verifier-nonces.sqlite",
        isolation_level=None,
        timeout=10,
    )
    db.execute("BEGIN EXCLUSIVE")
    answers: list[httpx.Response] = []
    time.sleep(1.0)  # the rate limit refills
    thread = threading.Thread(
        target=lambda: answers.append(httpx.post(f"{strict.url}/api/v1/nonce", timeout=15))
    )
    try:
        thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        assert httpx.get(f"{strict.url}/healthz", timeout=5).status_code == 200
        assert time.monotonic() - started < 0.5
        assert thread.is_alive()  # still waiting for the lock
        time.sleep(1.2)
    finally:
        db.execute("ROLLBACK")
        db.close()
    thread.join(10)
    assert answers[0].status_code == 200, answers[0].text


def test_a_verifier_that_requires_its_nonce(network: Network, strict: ServiceProcess) -> None:
    held = Held(network, "nonce-holder", Account.create())
    api = f"{strict.url}/api/v1/verify?lang=en"
    without = httpx.post(api, json={"presentation": held.present(SHOWN).encode()}, timeout=30)
    checks = {c["name"]: c for c in without.json()["checks"]}
    assert without.json()["verdict"] == "INVALID"
    assert checks["presentation.nonce"]["reason"] == "NONCE_REQUIRED"
    assert "nonce it issued" in checks["presentation.nonce"]["message"]

    time.sleep(1.0)  # the rate limit refills
    nonce = bytes.fromhex(httpx.post(f"{strict.url}/api/v1/nonce", timeout=10).json()["nonce"])
    shown = held.present(SHOWN, nonce=nonce).encode()
    assert httpx.post(api, json={"presentation": shown}, timeout=30).json()["verdict"] == "VALID"

    # The default verifier still takes a presentation without a nonce (expiry limits reuse).
    report = network.verifier().verify_presentation(held.present(SHOWN).encode())
    assert report.verdict is Verdict.VALID
    check = report.check("presentation.nonce")
    assert check is not None
    assert check.status is Status.SKIPPED
    strict_report = network.verifier(require_nonce=True).verify_presentation(
        held.present(SHOWN).encode()
    )
    assert strict_report.verdict is Verdict.INVALID
    assert {c.reason for c in strict_report.failures()} == {ReasonCode.NONCE_REQUIRED}
