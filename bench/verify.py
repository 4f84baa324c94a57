"""Verifier service speed: QR-text verifications per second over HTTP under concurrent load,
and PDF and OFD verification latency, each beside a baseline measured in the same run.

Setup (not timed): a throwaway anvil node on 127.0.0.1, a one-province consortium, ``--certs``
business licences issued, sealed and anchored, their public proofs exported to a folder and a
``verifier.json`` written, exactly as a verifier site would have them.

Measured:
- in process (before the service starts, so nothing competes for the CPU):
  ``Verifier.verify_qr_text`` per call and per second; ``Verifier.verify_pdf`` per call over
  every issued PDF, beside its baseline, pyHanko alone (``PdfFileReader`` +
  ``validate_pdf_signature`` with the same trust roots) on the same PDFs; the page's QR code
  read through a render process, beside the same render and decode in process;
  ``Verifier.verify_ofd`` over the OFDs of the same certificates (the first ``--pdfs`` are
  issued in both formats, one v3 leaf each), beside the SM2 seal primitive alone
  (``ledger.ofdseal.verify_ofd_seals``: unzip, SM3 check values, SM2 signatures);
- over HTTP: the verifier service started as its own process (``python -m cli.main serve
  verifier --region ZJ --config … --workers 2``: a worker per core, sharing the machine with the
  load generator; ``--workers 1 --pin`` gives one worker core 0 and the client core 1), warmed
  up, then driven by this process with ``--connections`` keep-alive connections, each sending
  its next request as soon as the previous answer arrives (closed loop), for ``--seconds`` or
  ``--max-requests``, whichever comes first:
  (a) baseline ``GET /healthz`` — the same server's HTTP stack with almost no work behind it,
  the ceiling any endpoint of this service can reach;
  (b) ``POST /api/v1/verify`` with JSON ``{"qr_text": …}`` cycling over every certificate; every
  answer must be 200 with verdict VALID, anything else counts as an error;
  (c) the same QR load again while 4 more connections flood ``POST /api/v1/nonce`` (no login
  needed) as fast as they are answered — 200 or 429 (the per-client rate limit), both count as
  answered; its p99 is compared with (b)'s, the baseline;
  then ``POST /api/v1/verify`` multipart with each PDF, then each OFD, one at a time (latency,
  not load).
The load generator is a minimal HTTP/1.1 keep-alive client on asyncio streams written here: it
costs a few tens of microseconds per request, so it is not what limits the figures (the
``/healthz`` baseline shows how far above the verifier's rate it can go).

Targets (verifier issue): >= 2,000 QR verifications/s with p99 <= 20 ms under concurrent load,
PDF verification p50 <= 30 ms for a one-page certificate; (hostile-input issue) QR p99 under a
nonce flood <= 2x the p99 without it. PASS/FAIL per target, exit 1 on FAIL.
Run: ``python bench/verify.py`` (``--profile`` also prints where an in-process QR verification
spends its time).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import random
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from issuer.formats import BOTH, PDF_ONLY
from issuer.pipeline import Pipeline, Submission
from issuer.samples import department_id, sample_record
from issuer.site import DepartmentConfig, ProvinceConfig, Site, bootstrap_network
from issuer.store import open_store
from ledger.chain import Chain
from ledger.node import AnvilNode, free_port
from ledger.ofdseal import verify_ofd_seals
from verifier.config import VerifierConfig, build_verifier
from verifier.engine import Verifier
from verifier.pixels import page_qr_texts
from verifier.renderpool import default_pool
from verifier.result import Verdict, VerificationReport

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "benchmark password only"
ISSUER = department_id("330000", "MB0000011")
HOST = "127.0.0.1"
QR_RATE_TARGET = 2_000.0
QR_P99_TARGET_MS = 20.0
PDF_P50_TARGET_MS = 30.0
FLOOD_CONNECTIONS = 4
FLOOD_P99_FACTOR = 2.0
VALID_MARK = b'"verdict":"VALID"'


# ---------------------------------------------------------------- figures


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values`` (seconds in, seconds out)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{1000 * seconds:6.2f} ms"


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    elapsed: float = 0.0
    client_cpu: float = 0.0
    """Share of one core the load generator (this process) used."""
    server_cpu: float = 0.0
    """Share of one core the service process used."""

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def line(self, label: str) -> str:
        return (
            f"  {self.rate:8.0f} req/s  p50 {ms(percentile(self.latencies, 50))}"
            f"  p99 {ms(percentile(self.latencies, 99))}  {len(self.latencies):,} ok,"
            f" {self.errors} errors  {label}"
            f"\n{'':10}CPU: server {100 * self.server_cpu:.0f}%, load generator"
            f" {100 * self.client_cpu:.0f}% of a core"
        )


# ---------------------------------------------------------------- consortium


@dataclass
class Consortium:
    config_path: Path
    qr_texts: list[str]
    pdfs: list[bytes]
    ofds: list[bytes]
    """The OFDs of the first certificates (issued in both formats)."""


def build_consortium(home: Path, rpc_url: str, count: int, twins: int) -> Consortium:
    """Issue, seal and anchor ``count`` business licences, the first ``twins`` of them as a PDF
    and an OFD; export their proofs to a folder and write the verifier's configuration, as
    ``tests/verifier/conftest.py`` does."""
    deployment = bootstrap_network(
        home,
        PASSWORD,
        Chain.connect(rpc_url),
        [ProvinceConfig("ZJ", "浙江省", "https://zj.verify.ecert.example")],
        [DepartmentConfig(ISSUER, "浙江省市场监督管理局", "ZJ", ["BUSINESS_LICENCE"])],
        sm2_seals=True,
    ).deployment
    site = Site(home, PASSWORD)
    pipeline = Pipeline(
        open_store(f"sqlite:///{home / 'issuer.sqlite'}"),
        site.departments(),
        site.registry(),
        batch_size=max(count, 1),
    )
    rng = random.Random(7)
    until = (datetime.now(UTC) + timedelta(days=365)).date()
    subs = [
        Submission(f"bench-{n}", "BUSINESS_LICENCE", sample_record("BUSINESS_LICENCE", rng), until)
        for n in range(count)
    ]
    results = pipeline.submit(ISSUER, subs[:twins], formats=BOTH)
    results += pipeline.submit(ISSUER, subs[twins:], formats=PDF_ONLY)
    numbers = [r.certificate_id or "" for r in results]
    while pipeline.seal_pending(limit=64):
        pass
    pipeline.close_batches(force=True)
    pipeline.anchor_pending()
    proofs = home / "proofs" / ISSUER
    proofs.mkdir(parents=True)
    qr_texts, pdfs = [], []
    for number in numbers:
        (proofs / f"{number}.json").write_text(json.dumps(pipeline.public_proof(ISSUER, number)))
        qr_texts.append(str(pipeline.certificate(ISSUER, number)["qr"]))
        pdfs.append(pipeline.pdf(ISSUER, number))
    ofds = [pipeline.ofd(ISSUER, number) for number in numbers[:twins]]
    site.pki.export_roots(home / "roots.pem")
    site.sm2.export_roots(home / "sm2-roots.pem")
    config_path = home / "verifier.json"
    VerifierConfig(
        rpc_url=rpc_url,
        registry_address=deployment.registry_address,
        deploy_block=deployment.deploy_block,
        trust_roots="roots.pem",
        sm2_trust_roots="sm2-roots.pem",
        proof_directories={"*": "proofs"},
    ).save(config_path)
    return Consortium(config_path, qr_texts, pdfs, ofds)


def in_process_verifier(consortium: Consortium, home: Path) -> Verifier:
    """The same configuration with its own registry index file, so it never shares SQLite
    with the service process."""
    config = replace(VerifierConfig.load(consortium.config_path), index_dir=str(home / "inproc"))
    return build_verifier(config, consortium.config_path, region="ZJ")


# ---------------------------------------------------------------- in process


def qr_in_process(verifier: Verifier, texts: list[str], seconds: float) -> LoadResult:
    for text in texts:  # warm: proof cache filled, imports done
        report = verifier.verify_qr_text(text)
        if report.verdict is not Verdict.VALID:
            raise SystemExit(f"in-process QR verification is {report.verdict.value}: {text}")
    result = LoadResult()
    clock = time.perf_counter
    start = clock()
    deadline = start + seconds
    n = 0
    while True:
        t0 = clock()
        verifier.verify_qr_text(texts[n % len(texts)])
        t1 = clock()
        result.latencies.append(t1 - t0)
        n += 1
        if t1 > deadline:
            break
    result.elapsed = clock() - start
    return result


def profile_qr(verifier: Verifier, texts: list[str], calls: int, top: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(calls):
        verifier.verify_qr_text(texts[n % len(texts)])
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def documents_in_process(
    verify: Callable[[bytes], VerificationReport], label: str, files: list[bytes], rounds: int
) -> list[float]:
    """``verify`` (``Verifier.verify_pdf`` or ``verify_ofd``) on each file, every answer VALID;
    the times after a warm-up round."""
    times = []
    for r in range(rounds + 1):
        for data in files:
            t0 = time.perf_counter()
            report = verify(data)
            took = time.perf_counter() - t0
            if report.verdict is not Verdict.VALID:
                bad = [f"{c.name}={c.reason}" for c in report.failures()]
                verdict = report.verdict.value
                raise SystemExit(f"in-process {label} verification is {verdict}: {bad}")
            if r:  # round 0 warms up
                times.append(took)
    return times


def page_qr_costs(pdfs: list[bytes], rounds: int) -> tuple[list[float], list[float]]:
    """Reading the page's QR code through a render process (what ``qr.matches_document`` does),
    and its baseline: the same pypdfium2 + zxing-cpp calls in this process, as before render
    processes (no memory limit, no deadline that frees anything)."""
    pool = default_pool()
    pooled: list[float] = []
    direct: list[float] = []
    for r in range(rounds + 1):
        for n, data in enumerate(pdfs):
            order = ((pool.page_qr, pooled), (page_qr_texts, direct))
            texts = []
            for read, times in order if n % 2 else order[::-1]:  # neither always goes first
                t0 = time.perf_counter()
                texts.append(read(data))
                if r:
                    times.append(time.perf_counter() - t0)
            if not texts[0] or texts[0] != texts[1]:
                raise SystemExit(f"the render process and this process read {texts}")
    return pooled, direct


def ofd_seals_alone(ofds: list[bytes], rounds: int) -> list[float]:
    """Baseline: the SM2 seal primitive alone (unzip, every SM3 check value, both SM2
    signatures), no trust chain, page, claims or registry."""
    times = []
    for r in range(rounds + 1):
        for data in ofds:
            t0 = time.perf_counter()
            report = verify_ofd_seals(data)
            took = time.perf_counter() - t0
            if not report.intact:
                raise SystemExit(f"the OFD seal primitive finds the seal not intact: {report}")
            if r:
                times.append(took)
    return times


def pyhanko_alone(verifier: Verifier, pdfs: list[bytes], rounds: int) -> list[float]:
    """Baseline: open the PDF and validate its one signature against the same trust roots."""
    times = []
    for r in range(rounds + 1):
        for data in pdfs:
            t0 = time.perf_counter()
            reader = PdfFileReader(io.BytesIO(data), strict=False)
            status = validate_pdf_signature(
                reader.embedded_signatures[0],
                ValidationContext(trust_roots=verifier.trust_roots, allow_fetching=False),
            )
            took = time.perf_counter() - t0
            if not (status.intact and status.valid and status.trusted):
                raise SystemExit(f"pyHanko finds the seal not valid: {status.summary()}")
            if r:
                times.append(took)
    return times


# ---------------------------------------------------------------- the service


class VerifierService:
    """``python -m cli.main serve verifier`` as a child process on 127.0.0.1."""

    def __init__(self, config: Path, log: Path, cpus: set[int] | None, workers: int) -> None:
        self.port = free_port()
        self.workers = workers
        self.config = config
        self.log = log
        self.cpus = cpus
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        command = [sys.executable, "-m", "cli.main", "serve", "verifier", "--region", "ZJ"]
        command += ["--port", str(self.port), "--config", str(self.config)]
        command += ["--workers", str(self.workers)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        if self.cpus:
            os.sched_setaffinity(self.process.pid, self.cpus)  # before uvicorn starts threads
        deadline = time.monotonic() + timeout
        while True:
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response,
            ):
                if response.status == 200:
                    return
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the verifier did not start; its log {self.log}:\n"
                    + self.log.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.1)

    def cpu_seconds(self) -> float:
        """User + system CPU time the service (the supervisor and its workers) has used."""
        if self.process is None:
            return 0.0
        total = 0
        for pid in [self.process.pid, *_children(self.process.pid)]:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
    return found


# ---------------------------------------------------------------- HTTP load


def http_request(method: str, path: str, body: bytes = b"", content_type: str = "") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n"
    if body or method == "POST":
        head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode("latin-1") + body


def qr_request(text: str) -> bytes:
    body = json.dumps({"qr_text": text}).encode()
    return http_request("POST", "/api/v1/verify", body, "application/json")


def pdf_request(data: bytes, name: str = "certificate.pdf", kind: str = "application/pdf") -> bytes:
    boundary = "ecertbench" + os.urandom(8).hex()
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {kind}\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return http_request("POST", "/api/v1/verify", body, f"multipart/form-data; boundary={boundary}")


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bytes]:
    """One request/response on a keep-alive connection (responses carry Content-Length)."""
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
            break
    if length is None:
        raise ValueError("response without Content-Length")
    return status, await reader.readexactly(length)


async def _drive(
    port: int,
    requests: Sequence[bytes],
    connections: int,
    seconds: float,
    max_requests: int,
    ok: Callable[[int, bytes], bool],
) -> LoadResult:
    result = LoadResult()
    issued = 0
    clock = time.perf_counter

    async def worker(offset: int) -> None:
        nonlocal issued
        reader, writer = await asyncio.open_connection(HOST, port)
        n = offset
        try:
            while clock() < deadline and issued < max_requests:
                issued += 1
                raw = requests[n % len(requests)]
                n += connections
                t0 = clock()
                try:
                    status, body = await _exchange(reader, writer, raw)
                except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                    result.errors += 1
                    result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
                    continue
                took = clock() - t0
                if ok(status, body):
                    result.latencies.append(took)
                else:
                    result.errors += 1
                    result.first_error = result.first_error or f"{status}: {body[:200]!r}"
        finally:
            writer.close()

    start = clock()
    deadline = start + seconds
    await asyncio.gather(*(worker(i) for i in range(connections)))
    result.elapsed = clock() - start
    return result


def drive_beside(
    service: VerifierService,
    requests: Sequence[bytes],
    flood: Sequence[bytes],
    *,
    connections: int,
    seconds: float,
    max_requests: int,
    ok: Callable[[int, bytes], bool],
) -> tuple[LoadResult, LoadResult, dict[int, int]]:
    """``requests`` as in ``drive``, while ``FLOOD_CONNECTIONS`` more connections send
    ``flood`` for as long; the flood's answers counted by status."""
    statuses: dict[int, int] = {}

    def counted(status: int, _body: bytes) -> bool:
        statuses[status] = statuses.get(status, 0) + 1
        return status in (200, 429)

    async def both() -> tuple[LoadResult, LoadResult]:
        return await asyncio.gather(
            _drive(service.port, requests, connections, seconds, max_requests, ok),
            _drive(service.port, flood, FLOOD_CONNECTIONS, seconds, 10**9, counted),
        )

    server0, client0 = service.cpu_seconds(), time.process_time()
    measured, flooded = asyncio.run(both())
    measured.server_cpu = (service.cpu_seconds() - server0) / measured.elapsed
    measured.client_cpu = (time.process_time() - client0) / measured.elapsed
    return measured, flooded, statuses


def drive(
    service: VerifierService,
    requests: Sequence[bytes],
    *,
    connections: int,
    seconds: float,
    max_requests: int,
    ok: Callable[[int, bytes], bool],
) -> LoadResult:
    server0, client0 = service.cpu_seconds(), time.process_time()
    result = asyncio.run(_drive(service.port, requests, connections, seconds, max_requests, ok))
    result.server_cpu = (service.cpu_seconds() - server0) / result.elapsed
    result.client_cpu = (time.process_time() - client0) / result.elapsed
    return result


def status_ok(status: int, _body: bytes) -> bool:
    return status == 200


def verdict_valid(status: int, body: bytes) -> bool:
    return status == 200 and VALID_MARK in body


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--certs", type=int, default=1000, help="certificates issued and cycled through"
    )
    parser.add_argument("--pdfs", type=int, default=50, help="PDFs timed (of those issued)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--seconds", type=float, default=15.0, help="QR load duration")
    parser.add_argument("--max-requests", type=int, default=300_000, help="QR load request cap")
    parser.add_argument("--workers", type=int, default=2, help="service worker processes")
    parser.add_argument(
        "--pin", action="store_true", help="pin a 1-worker server and the client to own cores"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile in-process QR checks")
    args = parser.parse_args()

    cores = sorted(os.sched_getaffinity(0))
    pin = args.pin and args.workers == 1 and len(cores) >= 2
    server_cpus = {cores[0]} if pin else None
    client_cpus = {cores[1]} if pin else None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ecert-bench-") as tmp:
        home = Path(tmp)
        node = AnvilNode(home / "chain", port=free_port(), persist=False)
        service = VerifierService(
            home / "verifier.json", home / "verifier.log", server_cpus, args.workers
        )
        node.start()
        try:
            consortium = build_consortium(home, node.rpc_url, args.certs, args.pdfs)
            setup = time.perf_counter() - started
            pdf_pages = int(PdfFileReader(io.BytesIO(consortium.pdfs[0])).root["/Pages"]["/Count"])
            pdf_kib = sum(len(p) for p in consortium.pdfs) / len(consortium.pdfs) / 1024

            # In process, before the service starts: nothing else is running.
            verifier = in_process_verifier(consortium, home)
            qr_local = qr_in_process(verifier, consortium.qr_texts, 3.0)
            profile = profile_qr(verifier, consortium.qr_texts, 2_000, 25) if args.profile else ""
            pdfs = consortium.pdfs[: args.pdfs]
            pdf_local = documents_in_process(verifier.verify_pdf, "PDF", pdfs, 2)
            page_pooled, page_direct = page_qr_costs(pdfs, 2)
            hanko = pyhanko_alone(verifier, pdfs, 2)
            ofd_local = documents_in_process(verifier.verify_ofd, "OFD", consortium.ofds, 2)
            sm2_alone = ofd_seals_alone(consortium.ofds, 2)
            verifier.proofs.close()
            verifier.chain.index.close()

            # Over HTTP.
            service.start()
            if client_cpus:
                os.sched_setaffinity(0, client_cpus)
            qr_bodies = [qr_request(t) for t in consortium.qr_texts]
            common = {"connections": args.connections, "max_requests": args.max_requests}
            warm = drive(service, qr_bodies, seconds=2.0, ok=verdict_valid, **common)
            if warm.errors:
                raise SystemExit(f"warm-up answers are wrong: {warm.first_error}")
            health = drive(
                service,
                [http_request("GET", "/healthz")],
                seconds=5.0,
                ok=status_ok,
                **common,
            )
            qr_http = drive(service, qr_bodies, seconds=args.seconds, ok=verdict_valid, **common)
            qr_flood, flood, flood_statuses = drive_beside(
                service,
                qr_bodies,
                [http_request("POST", "/api/v1/nonce")],
                seconds=args.seconds,
                ok=verdict_valid,
                **common,
            )
            pdf_bodies = [pdf_request(p) for p in pdfs]
            drive(service, pdf_bodies[:5], connections=1, seconds=60, max_requests=5,
                  ok=verdict_valid)  # fmt: skip
            pdf_http = drive(
                service,
                pdf_bodies * 2,
                connections=1,
                seconds=60.0,
                max_requests=2 * len(pdf_bodies),
                ok=verdict_valid,
            )
            ofd_bodies = [
                pdf_request(o, "certificate.ofd", "application/ofd") for o in consortium.ofds
            ]
            ofd_http = drive(
                service,
                ofd_bodies * 2,
                connections=1,
                seconds=60.0,
                max_requests=2 * len(ofd_bodies),
                ok=verdict_valid,
            )
        finally:
            service.stop()
            node.stop()

    print(
        f"{sys.platform}, {os.cpu_count()} cores; {args.certs} business licences "
        f"({pdf_pages}-page PDFs, {pdf_kib:.0f} KiB each); setup {setup:.0f} s"
    )
    split = (
        f"server pinned to core {cores[0]}, load generator to core {cores[1]}"
        if pin
        else "no pinning"
    )
    print(
        f"QR text over HTTP: {args.workers} uvicorn worker(s), {args.connections} keep-alive "
        f"connections, closed loop, {args.seconds:.0f} s; {split}"
    )
    print(health.line("baseline: GET /healthz, same server (its HTTP stack's ceiling)"))
    print(qr_http.line('POST /api/v1/verify {"qr_text": ...}, every answer VALID'))
    if qr_http.errors:
        print(f"    first error: {qr_http.first_error}")
    print(
        qr_flood.line(
            f"the same, beside {FLOOD_CONNECTIONS} connections flooding POST /api/v1/nonce"
        )
    )
    answered = ", ".join(f"{n:,} x {code}" for code, n in sorted(flood_statuses.items()))
    print(f"{'':10}the flood: {flood.rate:,.0f} req/s answered ({answered})")
    print(
        f"  {qr_local.rate:8.0f} /s     p50 {ms(percentile(qr_local.latencies, 50))}"
        f"  p99 {ms(percentile(qr_local.latencies, 99))}  baseline: Verifier.verify_qr_text "
        "in process, one thread, no HTTP"
    )
    print(f"PDF verification latency, {len(pdf_local)} verifications each:")
    print(
        f"  p50 {ms(percentile(hanko, 50))}  p99 {ms(percentile(hanko, 99))}"
        "  baseline: pyHanko alone (open + validate_pdf_signature, same trust roots)"
    )
    print(
        f"  p50 {ms(percentile(pdf_local, 50))}  p99 {ms(percentile(pdf_local, 99))}"
        "  Verifier.verify_pdf in process (seal, claims, page QR, registry checks)"
    )
    print(
        f"  p50 {ms(percentile(page_pooled, 50))}  p99 {ms(percentile(page_pooled, 99))}"
        "  the page's QR code read through a render process (memory limit, deadline)"
    )
    print(
        f"  p50 {ms(percentile(page_direct, 50))}  p99 {ms(percentile(page_direct, 99))}"
        "  baseline: the same render and decode in process"
    )
    print(
        f"  p50 {ms(percentile(pdf_http.latencies, 50))}"
        f"  p99 {ms(percentile(pdf_http.latencies, 99))}"
        f"  POST /api/v1/verify multipart, one at a time ({pdf_http.errors} errors)"
    )
    ofd_kib = sum(len(o) for o in consortium.ofds) / max(1, len(consortium.ofds)) / 1024
    print(
        f"OFD verification latency (the same certificates' OFDs, {ofd_kib:.0f} KiB each), "
        f"{len(ofd_local)} verifications each:"
    )
    print(
        f"  p50 {ms(percentile(sm2_alone, 50))}  p99 {ms(percentile(sm2_alone, 99))}"
        "  baseline: the SM2 seal primitive alone (unzip, SM3 check values, SM2 signatures)"
    )
    print(
        f"  p50 {ms(percentile(ofd_local, 50))}  p99 {ms(percentile(ofd_local, 99))}"
        "  Verifier.verify_ofd in process (seal, SM2 chain, claims, page QR, registry checks)"
    )
    print(
        f"  p50 {ms(percentile(ofd_http.latencies, 50))}"
        f"  p99 {ms(percentile(ofd_http.latencies, 99))}"
        f"  POST /api/v1/verify multipart, one at a time ({ofd_http.errors} errors)"
    )

    verdicts = [
        (
            f"QR over HTTP {qr_http.rate:,.0f}/s (target >= {QR_RATE_TARGET:,.0f}/s)",
            qr_http.rate >= QR_RATE_TARGET,
        ),
        (
            f"QR over HTTP p99 {1000 * percentile(qr_http.latencies, 99):.1f} ms "
            f"(target <= {QR_P99_TARGET_MS:.0f} ms)",
            percentile(qr_http.latencies, 99) * 1000 <= QR_P99_TARGET_MS,
        ),
        (f"QR over HTTP errors {qr_http.errors} (must be 0)", qr_http.errors == 0),
        (
            f"QR over HTTP p99 beside the nonce flood "
            f"{1000 * percentile(qr_flood.latencies, 99):.1f} ms, baseline without it "
            f"{1000 * percentile(qr_http.latencies, 99):.1f} ms "
            f"(target <= {FLOOD_P99_FACTOR:g}x; errors {qr_flood.errors} + {flood.errors})",
            percentile(qr_flood.latencies, 99)
            <= FLOOD_P99_FACTOR * percentile(qr_http.latencies, 99)
            and qr_flood.errors == 0
            and flood.errors == 0,
        ),
        (
            f"PDF verification p50 {1000 * percentile(pdf_local, 50):.1f} ms in process, "
            f"{1000 * percentile(pdf_http.latencies, 50):.1f} ms over HTTP "
            f"(target <= {PDF_P50_TARGET_MS:.0f} ms, both)",
            max(percentile(pdf_local, 50), percentile(pdf_http.latencies, 50)) * 1000
            <= PDF_P50_TARGET_MS
            and pdf_http.errors == 0,
        ),
        (f"OFD over HTTP errors {ofd_http.errors} (must be 0)", ofd_http.errors == 0),
    ]
    for text, passed in verdicts:
        print(f"{'PASS' if passed else 'FAIL'}  {text}")
    print(f"total {time.perf_counter() - started:.0f} s")
    if profile:
        print("\nWhere an in-process QR-text verification spends its time (cProfile, 2,000 calls):")
        print(profile)
    return 0 if all(passed for _t, passed in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
