"""Producing one sealed certificate from its stored record (render → seal → leaf), in this
process or in a pool of worker processes: the PAdES PDF, and the SM2-sealed OFD when the record
asks for it, both bound by one leaf (version 3 when there is an OFD).

The work is a pure function of the record and the department's keys, so it can run anywhere
and be repeated after a crash: the pipeline stores the result in one transaction. One record
that cannot be produced (a render or seal error, even a worker process that dies on it) comes
back as a ``SealFailure`` with its reason; the others are produced as usual.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils.reader import PdfFileReader

from issuer.department import Department
from issuer.formats import PDF_ONLY, Format
from issuer.ofd import write_ofd
from issuer.render import CertificateDocument, render_certificate
from issuer.seal import Sealer
from ledger.catalogue import catalogue
from ledger.claims import ClaimsCommitment
from ledger.digest import document_digest, sealed_revision_digest
from ledger.errors import LedgerError
from ledger.leaf import LEAF_VERSION, LEAF_VERSION_TWO_DOCUMENTS, NO_DOCUMENT, CertificateLeaf
from ledger.qrpayload import QrPayload

__all__ = [
    "SealFailure",
    "SealJob",
    "SealOutcome",
    "SealedCertificate",
    "SealingPool",
    "seal_job",
    "try_seal",
]

log = logging.getLogger("ecert.issuer.sealing")


@dataclass(frozen=True)
class SealJob:
    """Everything needed to produce one certificate (plain data: crosses processes)."""

    pk: int
    issuer_id: str
    cert_type: str
    certificate_id: str
    claims: dict[str, str]
    claims_secret: bytes
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    formats: tuple[Format, ...] = PDF_ONLY


@dataclass(frozen=True)
class SealedCertificate:
    pk: int
    pdf: bytes
    """The sealed PDF; empty when the record asked for the OFD alone."""
    claims_commitment: bytes
    document_digest: bytes
    """The PDF's sealed-revision digest (``NO_DOCUMENT`` without a PDF)."""
    leaf: bytes
    qr_text: str
    level: str
    leaf_version: int = LEAF_VERSION
    ofd: bytes | None = None
    """The sealed OFD file, if the record asked for one."""
    ofd_digest: bytes | None = None
    """SHA-256 of ``ofd`` (what a version-3 leaf binds)."""


@dataclass(frozen=True)
class SealFailure:
    """A record that could not be rendered or sealed."""

    pk: int
    reason: str
    """The error, for the department (stored with the certificate; never logged, as it may
    quote a claim)."""
    kind: str
    """The exception's type name, safe to log."""


SealOutcome = SealedCertificate | SealFailure


def document_for(dept: Department, job: SealJob) -> CertificateDocument:
    commitment = ClaimsCommitment(job.claims, job.claims_secret).root
    qr = QrPayload(
        job.issuer_id,
        job.cert_type,
        job.certificate_id,
        commitment,
        job.valid_from,
        job.valid_until,
    ).signed_by(dept.account)
    return CertificateDocument(
        spec=catalogue()[job.cert_type],
        certificate_id=job.certificate_id,
        issuer_id=job.issuer_id,
        issuer_name=dept.name,
        province_name=dept.province_name,
        claims=dict(job.claims),
        claims_secret=job.claims_secret,
        claims_commitment=commitment,
        issued_at=job.issued_at,
        valid_from=job.valid_from,
        valid_until=job.valid_until,
        qr_text=qr.url(dept.verifier_base),
    )


def _sealed_pdf(dept: Department, doc: CertificateDocument) -> tuple[bytes, bytes, str]:
    """The sealed PDF, its sealed-revision digest and its PAdES level."""
    sealed = dept.sealer.seal(render_certificate(doc))
    # The digest of the sealed revision (leaf versions 2 and 3), so validation data or
    # document timestamps added later (B-LT, B-LTA) keep the anchor.
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    signature = reader.embedded_signatures[0]
    digest = sealed_revision_digest(sealed, [int(v) for v in signature.byte_range])
    return sealed, digest, Sealer.level_of(reader)


def seal_job(dept: Department, job: SealJob) -> SealedCertificate:
    doc = document_for(dept, job)
    pdf, digest, levels = b"", NO_DOCUMENT, []
    if Format.PDF in job.formats:
        pdf, digest, level = _sealed_pdf(dept, doc)
        levels.append(level)
    ofd = ofd_digest = None
    if Format.OFD in job.formats:
        if dept.ofd_sealer is None:
            raise LedgerError(f"{job.issuer_id} has no SM2 seal: it cannot issue OFD")
        ofd = write_ofd(doc, dept.ofd_sealer)
        ofd_digest = document_digest(ofd)  # the exact bytes as stored and handed out
        levels.append("OFD SM2")
    version = LEAF_VERSION if ofd_digest is None else LEAF_VERSION_TWO_DOCUMENTS
    leaf = CertificateLeaf(
        issuer_id=job.issuer_id,
        cert_type=job.cert_type,
        certificate_id=job.certificate_id,
        claims_commitment=doc.claims_commitment,
        document_digest=digest,
        valid_from=job.valid_from,
        valid_until=job.valid_until,
        version=version,
        ofd_digest=ofd_digest,
    )
    return SealedCertificate(
        job.pk,
        pdf,
        doc.claims_commitment,
        digest,
        leaf.hash(),
        doc.qr_text,
        " + ".join(levels),
        version,
        ofd,
        ofd_digest,
    )


def try_seal(dept: Department, job: SealJob) -> SealOutcome:
    """``seal_job``, with any error turned into this record's ``SealFailure``."""
    try:
        return seal_job(dept, job)
    except Exception as exc:  # one record's failure must not stop the others
        return SealFailure(job.pk, f"{type(exc).__name__}: {exc}"[:500], type(exc).__name__)


# ---------------------------------------------------------------- worker processes

_WORKER_DEPARTMENTS: dict[str, Department] = {}


def _init_worker(home: str, password: str, timestamp_url: str | None) -> None:
    from issuer.site import Site  # noqa: PLC0415 - only in worker processes

    site = Site(Path(home), password)
    for config in site.network.departments:
        _WORKER_DEPARTMENTS[config.issuer_id] = site.department(
            config.issuer_id, timestamp_url=timestamp_url
        )


def _ready(pause: float) -> int:
    time.sleep(pause)  # held long enough that the other workers take the other tasks
    return os.getpid()


def _run(job: SealJob) -> SealOutcome:
    return try_seal(_WORKER_DEPARTMENTS[job.issuer_id], job)


class SealingPool:
    """Worker processes that load a site's departments once and seal jobs in parallel.

    Processes are spawned (not forked), so a server with threads can use it safely; each
    worker decrypts the keys itself from the same home and password. If a worker dies (a crash
    in a native library, the OOM killer), the pool is started again and the unfinished jobs are
    sealed one at a time, so the one that kills a worker again fails alone.
    """

    def __init__(
        self, home: Path, password: str, *, workers: int = 2, timestamp_url: str | None = None
    ) -> None:
        self._initargs = (str(home), password, timestamp_url)
        self.workers = workers
        self._executor = self._start()

    def __repr__(self) -> str:
        return f"SealingPool(workers={self.workers})"

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=self._initargs,
        )

    def _restart(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = self._start()

    def warm_up(self, timeout: float = 60.0) -> None:
        """Start every worker now (spawning and loading keys takes about a second each)."""
        seen: set[int] = set()
        deadline = time.monotonic() + timeout
        while len(seen) < self.workers and time.monotonic() < deadline:
            futures = [self._executor.submit(_ready, 0.3) for _ in range(self.workers)]
            seen.update(f.result() for f in futures)

    def worker_pids(self) -> list[int]:
        """The worker processes now running."""
        return list(self._executor._processes or {})

    def seal(self, jobs: Sequence[SealJob]) -> Iterator[SealOutcome]:
        """One outcome per job, in order, as they finish."""
        futures: list[Future[SealOutcome]] = [self._executor.submit(_run, j) for j in jobs]
        for position, future in enumerate(futures):
            try:
                yield future.result()
            except BrokenProcessPool:
                log.warning("a sealing process died; sealing the rest one at a time")
                self._restart()
                yield from self._one_by_one(jobs[position:])
                return

    def _one_by_one(self, jobs: Iterable[SealJob]) -> Iterator[SealOutcome]:
        for job in jobs:
            try:
                yield self._executor.submit(_run, job).result()
            except BrokenProcessPool:
                self._restart()
                yield SealFailure(job.pk, "the sealing process died while sealing it", "crash")

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> SealingPool:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()
