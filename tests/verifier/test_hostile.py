"""Hostile input against a real ``ecert serve verifier`` (two worker processes) on 127.0.0.1: each
file an attacker can send for a few KB — JSON nested 200,000 deep in every parser (the claims
attachment, a bundle from a peer, a proof from a proof directory over HTTP and from a folder, an
API body), a 14400×14400 pt page, a page drawing a 20,000² image, thousands of pages, a 12000²
and a 30000² PNG — gets a 4xx or a verdict, never a 5xx; no worker process dies; ``/healthz``
answers within 5 s after each; and the service's memory stays bounded over the whole suite
(peak RSS from ``/proc/<pid>/status`` of every process of the service)."""

from __future__ import annotations

import gzip
import io
import json
import select
import shutil
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from tests.integration.servers import ServiceProcess
from tests.verifier import bombs
from tests.verifier.conftest import GD_HOSPITAL, ZJ_MARKET, Network
from verifier.config import VerifierConfig
from verifier.document import read_embedded_claims
from verifier.proofs import ProofDirectory, ProofUnavailable
from verifier.sync import IndexSyncer

pytestmark = pytest.mark.anvil

GIB = 1024**3
DEEP = bombs.deep_json()
HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 3.0


# ---------------------------------------------------------------- a hostile peer


class _Peer(BaseHTTPRequestHandler):
    """Every bundle and proof it serves is JSON nested 200,000 deep."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(DEEP)))
        self.end_headers()
        self.wfile.write(DEEP)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client giving up mid-answer is what the tests want


@pytest.fixture(scope="module")
def peer() -> Iterator[str]:
    server = _QuietServer(("127.0.0.1", 0), _Peer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# ---------------------------------------------------------------- the service under attack


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _status(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` figure in bytes (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Attacked:
    server: ServiceProcess
    workers: list[int]
    """The uvicorn worker processes (children of the supervisor), fixed for the whole suite:
    one that died would be restarted under a new pid."""
    peaks: dict[int, int]
    """pid → highest VmHWM seen, for every process of the service (render processes too)."""
    figures: list[str]

    @property
    def url(self) -> str:
        return self.server.url

    def processes(self) -> list[int]:
        assert self.server.process is not None
        return [self.server.process.pid, *_descendants(self.server.process.pid)]

    def sample(self) -> None:
        for pid in self.processes():
            self.peaks[pid] = max(self.peaks.get(pid, 0), _status(pid, "VmHWM"))

    def rss(self) -> int:
        return sum(_status(pid, "VmRSS") for pid in self.processes())

    def assert_alive(self, label: str) -> None:
        """Every worker is the one that started; ``/healthz`` answers 200 within 5 s."""
        assert self.server.process is not None
        assert self.server.process.poll() is None, f"{label}: the service exited"
        alive = set(_descendants(self.server.process.pid))
        assert set(self.workers) <= alive, f"{label}: a worker process died"
        deadline = time.monotonic() + 5
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{label}: /healthz did not answer within 5 s"
            time.sleep(0.1)
        self.sample()


@pytest.fixture(scope="module")
def attacked(
    network: Network, peer: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Attacked]:
    """The verifier for ZJ with its own index, a trust-bundle peer and a GD proof directory
    that answer with JSON bombs, and a proof folder holding one."""
    home = tmp_path_factory.mktemp("hostile")
    shutil.copy(network.home / "roots.pem", home / "roots.pem")
    proofs = home / "proofs"
    shutil.copytree(network.home / "proofs", proofs)
    (proofs / ZJ_MARKET / "BOMB.json").write_bytes(DEEP)
    base = VerifierConfig.load(network.config_path)
    config = {
        **asdict(base),
        "proof_directories": {"ZJ": str(proofs), "GD": peer},
        "trust_bundles": [f"{peer}/api/v1/bundle"],
    }
    (home / "verifier.json").write_text(json.dumps(config))
    server = ServiceProcess(
        "verifier",
        [
            *("--region", "ZJ", "--config", str(home / "verifier.json"), "--workers", "2"),
            *("--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", str(BODY_TIMEOUT)),
        ],
        {"ECERT_HOME": str(network.home)},
        home / "verifier.log",
    )
    server.start()
    assert server.process is not None
    workers = _descendants(server.process.pid)
    assert len(workers) >= 2
    attacked = Attacked(server, workers, {}, [])
    attacked.sample()
    yield attacked
    server.stop()
    print("\n".join(attacked.figures))


def _claims(network: Network) -> dict[str, Any]:
    """A real certificate's attachment: self-consistent claims an attacker can copy."""
    reader = PdfFileReader(io.BytesIO(network.pdf(network.good)), strict=False)
    embedded = read_embedded_claims(reader)
    assert embedded is not None
    return dict(embedded.raw)


def _upload(attacked: Attacked, name: str, data: bytes) -> httpx.Response:
    return httpx.post(
        f"{attacked.url}/api/v1/verify?lang=en", files={"file": (name, data)}, timeout=60
    )


def _check(answer: httpx.Response) -> dict[str, Any]:
    """A 4xx, or a verdict (200 with INVALID or INDETERMINATE): never a server error."""
    assert answer.status_code < 500, (answer.status_code, answer.text[:300])
    body: dict[str, Any] = answer.json()
    if answer.status_code == 200:
        assert body["verdict"] in ("INVALID", "INDETERMINATE"), body["verdict"]
    return body


def _failed(body: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["reason"] for c in body.get("checks", []) if c["status"] != "VALID"}


def _attack(attacked: Attacked, label: str, send: Any) -> dict[str, Any]:
    before = attacked.rss()
    started = time.monotonic()
    answer = send()
    took = time.monotonic() - started
    attacked.sample()
    body = _check(answer)
    attacked.assert_alive(label)
    attacked.figures.append(
        f"{label}: HTTP {answer.status_code} in {took:.2f} s; service RSS "
        f"{before / 2**20:.0f} -> {attacked.rss() / 2**20:.0f} MB, peak of any process "
        f"{max(attacked.peaks.values()) / 2**20:.0f} MB"
    )
    return body


# ---------------------------------------------------------------- the files


def test_claims_attachment_nested_200000_deep(attacked: Attacked) -> None:
    pdf = bombs.pdf_with_attachment(DEEP)
    body = _attack(attacked, "attachment [*200000", lambda: _upload(attacked, "deep.pdf", pdf))
    assert body["verdict"] == "INVALID"
    assert _failed(body)["document.claims"] == "DOCUMENT_MALFORMED"


def test_api_body_nested_200000_deep(attacked: Attacked) -> None:
    body = b'{"qr_text": ' + DEEP + b"}"
    answer = _attack(
        attacked,
        "API body [*200000",
        lambda: httpx.post(
            f"{attacked.url}/api/v1/verify",
            content=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        ),
    )
    assert "detail" in answer


def test_proof_from_a_folder_nested_200000_deep(attacked: Attacked) -> None:
    body = _attack(
        attacked,
        "proof file [*200000",
        lambda: httpx.post(
            f"{attacked.url}/api/v1/verify?lang=en",
            json={"issuer_id": ZJ_MARKET, "certificate_id": "BOMB"},
            timeout=30,
        ),
    )
    assert body["verdict"] == "INDETERMINATE"
    assert _failed(body)["anchor.included"] == "PROOF_UNAVAILABLE"


def test_proof_from_a_peer_nested_200000_deep(attacked: Attacked) -> None:
    body = _attack(
        attacked,
        "proof over HTTP [*200000",
        lambda: httpx.post(
            f"{attacked.url}/api/v1/verify?lang=en",
            json={"issuer_id": GD_HOSPITAL, "certificate_id": "BOMB"},
            timeout=30,
        ),
    )
    assert body["verdict"] == "INDETERMINATE"
    assert _failed(body)["anchor.included"] == "PROOF_UNAVAILABLE"


def test_bundle_from_a_peer_nested_200000_deep(attacked: Attacked, peer: str) -> None:
    """Fetched when each worker starts: the source is reported as failed, nothing else."""
    health = httpx.get(f"{attacked.url}/healthz", timeout=5).json()
    problem = health["trust_bundle"]["problems"][f"{peer}/api/v1/bundle"]
    assert problem.startswith("FORMAT"), problem
    attacked.assert_alive("bundle [*200000")


def test_page_of_14400_points(attacked: Attacked, network: Network) -> None:
    pdf = bombs.huge_page_pdf(_claims(network))
    assert len(pdf) < 2000
    body = _attack(attacked, "14400 pt page", lambda: _upload(attacked, "huge.pdf", pdf))
    assert body["verdict"] == "INVALID"
    assert "DOCUMENT_MALFORMED" in _failed(body).values()


def test_five_thousand_pages(attacked: Attacked, network: Network) -> None:
    pdf = bombs.many_pages_pdf(_claims(network))
    body = _attack(attacked, "5,000 pages", lambda: _upload(attacked, "pages.pdf", pdf))
    assert body["verdict"] == "INVALID"
    assert "DOCUMENT_MALFORMED" in _failed(body).values()


def test_page_drawing_a_20000_pixel_image(attacked: Attacked, network: Network) -> None:
    """An A4 page within every size limit whose one image decodes to 400 MB: beyond the render
    process's memory limit, so pdfium draws the page without it (no QR code on it: INVALID)
    or the process dies (could not check: ERROR); either way the memory is bounded."""
    pdf = bombs.heavy_image_pdf(_claims(network))
    body = _attack(attacked, "A4 page, 20000² image", lambda: _upload(attacked, "img.pdf", pdf))
    assert _failed(body)["qr.matches_document"] in ("QR_MISSING", "PAGE_NOT_RENDERED")


@pytest.mark.parametrize(
    ("width", "colour"), [(12_000, True), (30_000, False)], ids=["12000px", "30000px"]
)
def test_png_decompression_bombs(attacked: Attacked, width: int, colour: bool) -> None:
    png = bombs.png_of(width, width, colour=colour)
    body = _attack(attacked, f"{width}² PNG", lambda: _upload(attacked, "bomb.png", png))
    assert "detail" in body
    assert "pixels" in body["detail"]


# ---------------------------------------------------------------- slow clients


def _drip(sockets: list[socket.socket], first: bytes, then: bytes, seconds: float) -> float:
    """Send ``first`` on every socket, then ``then`` a byte a second on each (nothing if it is
    empty), until the server has closed every one; the seconds that took (``seconds`` at
    most)."""
    for sock in sockets:
        sock.sendall(first)
    started = time.monotonic()
    open_ = set(sockets)
    sent = 0
    while open_ and time.monotonic() - started < seconds:
        readable, _, _ = select.select(list(open_), [], [], 1.0)
        for sock in readable:
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not data or b"connection: close" in data.lower():
                open_.discard(sock)
        if then and time.monotonic() - started >= sent + 1:
            sent += 1
            for sock in list(open_):
                try:
                    sock.send(then[sent % len(then) : sent % len(then) + 1] or b"x")
                except OSError:
                    open_.discard(sock)
    assert not open_, f"{len(open_)} of {len(sockets)} connections still open after {seconds} s"
    return time.monotonic() - started


def test_slow_clients_are_closed_each_costing_at_most_a_log_line(attacked: Attacked) -> None:
    """200 connections sending their headers a byte a second, 50 that send nothing, then 100
    sending a body a byte a second: each is closed by the header / body deadline, and the
    service logs at most one line each (no traceback); it answers throughout."""
    log_before = attacked.server.log.read_text(errors="replace").count("\n")
    port = attacked.server.port
    figures = []
    for count, first, then, deadline in (
        (200, b"POST /api/v1/verify HTTP/1.1\r\nHost: x\r\n", b"X-Slow: yes\r\n", HEADER_TIMEOUT),
        (50, b"", b"", HEADER_TIMEOUT),
        (
            100,
            b"POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000\r\n\r\n{",
            b'"qr_text": "',
            BODY_TIMEOUT,
        ),
    ):
        sockets = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
        try:
            took = _drip(sockets, first, then, seconds=deadline + 8)
            assert httpx.get(f"{attacked.url}/healthz", timeout=5).status_code == 200
        finally:
            for sock in sockets:
                sock.close()
        figures.append(f"{count} connections closed {took:.1f} s after their first byte")
        assert took < deadline + 3
    attacked.assert_alive("slow clients")
    log = attacked.server.log.read_text(errors="replace")
    assert "Traceback" not in log
    added = log.count("\n") - log_before
    assert added <= 350, log[-3000:]
    attacked.figures.append(f"slow clients: {'; '.join(figures)}; {added} log lines for 350")


def _exchange(port: int, raw: bytes) -> tuple[int, bytes]:
    """One raw request sent in one piece; the status and the body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            length = [h for h in head.lower().split(b"\r\n") if h.startswith(b"content-length:")]
            if length and len(body) >= int(length[0].split(b":")[1]):
                break
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_headers_over_64_kib_get_431_but_a_large_request_in_one_piece_does_not(
    attacked: Attacked,
) -> None:
    port = attacked.server.port
    big_head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
    code, body = _exchange(port, big_head)
    assert code == 431
    assert "request headers over 65,536 bytes" in json.loads(body)["detail"]
    body_100k = b'{"qr_text": "' + b"a" * 100_000 + b'"}'
    whole = (
        b"POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body_100k), body_100k)
    )
    code, body = _exchange(port, whole)  # headers, and a body over 64 KiB, in one packet
    assert code == 413, body
    assert "JSON body larger than 65,536 bytes" in json.loads(body)["detail"]
    attacked.assert_alive("large headers")


# ---------------------------------------------------------------- peers that misbehave


class _SlowPeer(BaseHTTPRequestHandler):
    """A proof directory or bundle peer that answers by the first path segment: ``drip-head``
    (a header byte every 0.2 s), ``drip-body`` (a body byte every 0.2 s), ``flood`` (endless
    chunks), ``gzip-bomb`` (100 KB that inflates to 100 MB), ``deep`` (the recursion bomb)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        mode = self.path.strip("/").split("/")[0]
        try:
            if mode == "drip-head":
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                self._drip(b"X-Slow: yes\r\n")
            elif mode == "drip-body":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
                self._drip(b"[")
            elif mode == "flood":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                chunk = b"%x\r\n%s\r\n" % (1 << 20, b" " * (1 << 20))
                for _ in range(300):
                    self.wfile.write(chunk)
            elif mode == "gzip-bomb":
                self.wfile.write(
                    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
                    % len(_GZIP_BOMB)
                )
                self.wfile.write(_GZIP_BOMB)
            else:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(DEEP))
                self.wfile.write(DEEP)
        except OSError:
            pass  # the client gave up, as it should

    def _drip(self, data: bytes) -> None:
        for _ in range(300):
            for byte in data:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.2)

    def log_message(self, format: str, *args: Any) -> None:
        pass


_GZIP_BOMB = gzip.compress(b" " * (100 << 20), compresslevel=9)
MODES = ["drip-head", "drip-body", "flood", "gzip-bomb", "deep"]


@pytest.fixture(scope="module")
def slow_peer() -> Iterator[str]:
    server = _QuietServer(("127.0.0.1", 0), _SlowPeer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("mode", MODES)
def test_a_proof_directory_that_drips_floods_or_bombs(slow_peer: str, mode: str) -> None:
    """Within its total deadline, however the directory answers, and never holding more than
    the record limit: ERROR (could not check), never a hang, a crash or INVALID."""
    directory = ProofDirectory({"*": f"{slow_peer}/{mode}"}, timeout=1.0)
    tracemalloc.start()
    try:
        started = time.monotonic()
        with pytest.raises(ProofUnavailable):
            directory.fetch("ZJ", ZJ_MARKET, "2026BL00000001")
        took = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        directory.close()
    assert took < 1.5, took
    assert peak < 8 * 2**20, peak


def test_bundle_peers_that_misbehave_are_each_a_failed_source_and_the_sync_goes_on(
    network: Network, slow_peer: str
) -> None:
    sources = [f"{slow_peer}/{mode}/api/v1/bundle" for mode in MODES]
    started = time.monotonic()
    verifier = network.verifier(trust_bundles=sources, bundle_fetch_seconds=1.0)
    took = time.monotonic() - started
    try:
        bundles = verifier.chain.bundles
        assert bundles is not None
        assert set(bundles.problems) == set(sources), bundles.problems
        for source, problem in bundles.problems.items():
            assert problem.startswith(("UNAVAILABLE", "FORMAT")), (source, problem)
        assert "no answer within 1 s" in bundles.problems[sources[0]]
        assert took < 5 * 1.5 + 5

        # The index keeps syncing while a bundle round waits on the slow peers.
        syncer = IndexSyncer(verifier.chain, interval=0.1, bundle_interval=0.1, max_backoff=0.2)
        syncer.start()
        try:
            time.sleep(0.3)
            rounds, bundle_rounds = syncer.rounds, syncer.bundle_rounds
            time.sleep(2.0)
            assert syncer.rounds >= rounds + 5
            assert syncer.bundle_rounds <= bundle_rounds + 1  # one round takes ~5 s
            assert syncer.alive
        finally:
            syncer.stop(timeout=15)
    finally:
        verifier.proofs.close()
        if verifier.chain.bundles is not None:
            verifier.chain.bundles.close()


# ---------------------------------------------------------------- last


def test_peak_memory_of_the_whole_suite(attacked: Attacked) -> None:
    """Last: every process of the service stayed under 1 GB at its peak, and so did their sum."""
    attacked.sample()
    peaks = {pid: peak for pid, peak in attacked.peaks.items() if peak}
    attacked.figures.append(
        "peak RSS (VmHWM) per process: "
        + ", ".join(f"{pid}: {peak / 2**20:.0f} MB" for pid, peak in sorted(peaks.items()))
    )
    assert max(peaks.values()) < GIB
    assert sum(peaks.values()) < GIB
