"""The issuing pipeline: receive → seal → batch → anchor, each step durable and idempotent.

- ``submit`` checks records (catalogue, validity, and the registry: issuer active, type
  allowed) and stores the valid ones with their audit entry before returning, so an
  acknowledged request survives any crash; a repeated ``reference`` returns the first
  submission, never a duplicate.
- ``seal_pending`` renders, seals and fixes each certificate's leaf: the PAdES PDF, and the
  SM2-sealed OFD for records issued in both formats (the default for a department with an SM2
  seal), one leaf binding both. A record that cannot be sealed ends ``FAILED`` with its reason
  and the others go on.
- ``close_batches`` groups sealed certificates into Merkle batches by size or age.
- ``anchor_pending`` records batch roots on chain (``issuer.anchoring``): unreachable node →
  retry with backoff; registry refusal → the batch ends ``FAILED`` with the reason.

The steps of one store run in one process at a time (``issuer.worklock``), so ``ecert issue``
and ``ecert serve issuer`` can share a home: whichever holds the lock does the work.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from issuer.anchoring import AnchorCounts, Anchorer
from issuer.audit import append_audit, sign_checkpoint
from issuer.checkpoints import Checkpoint, CheckpointFile, CheckpointFileError
from issuer.department import Department
from issuer.formats import PDF_ONLY, Format, format_text, parse_formats
from issuer.names import holder_names
from issuer.permits import RegistryPermits
from issuer.sealing import SealFailure, SealingPool, SealJob, SealOutcome, try_seal
from issuer.store import (
    Batch,
    Certificate,
    CertStatus,
    Document,
    ProgressEvent,
    aware,
    record_progress,
    utcnow,
)
from issuer.submission import Submission, SubmitResult, checked_claims, with_holder
from issuer.worklock import WorkLock
from ledger.catalogue import ClaimsInvalid, catalogue
from ledger.codes import RevocationReason
from ledger.errors import LedgerError
from ledger.merkle import MerkleTree
from ledger.proofrecord import ProofRecord
from ledger.registry import Registry

__all__ = [
    "AnchorCounts",
    "FormatUnavailable",
    "Pipeline",
    "PipelineError",
    "StepCounts",
    "Submission",
    "SubmitResult",
]

log = logging.getLogger("ecert.issuer")
MAX_BACKOFF = timedelta(seconds=60)


class PipelineError(LedgerError):
    """A pipeline request that cannot be carried out (unknown certificate, wrong state...)."""


class FormatUnavailable(PipelineError):
    """A format the department cannot issue (an OFD without an SM2 seal)."""


@dataclass
class StepCounts:
    sealed: int = 0
    """Records taken for sealing (sealed or failed)."""
    failed_certificates: int = 0
    """Records that could not be sealed (now ``FAILED``)."""
    batched: int = 0
    anchored_batches: int = 0
    anchored_certificates: int = 0
    waiting_batches: int = 0
    failed_batches: int = 0
    """Batches the registry refused for good (now ``FAILED``)."""
    busy: bool = False
    """Another process holds the store's work lock and is doing this work."""


class Pipeline:
    """The pipeline of one issuing site (one or more departments)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        departments: Iterable[Department],
        registry: Registry | None,
        *,
        batch_size: int = 256,
        batch_window: timedelta = timedelta(seconds=2),
        max_backoff: timedelta = MAX_BACKOFF,
        sealing_pool: SealingPool | None = None,
        checkpoint_file: CheckpointFile | None = None,
        permit_ttl: timedelta = timedelta(seconds=5),
        proof_folder: Path | None = None,
        formats: tuple[Format, ...] | None = None,
    ) -> None:
        self.sessions = sessions
        self.departments = {d.issuer_id: d for d in departments}
        self.registry = registry
        self.batch_size = batch_size
        self.batch_window = batch_window
        self.max_backoff = max_backoff
        self.sealing_pool = sealing_pool
        self.checkpoint_file = checkpoint_file
        self.proof_folder = proof_folder
        """Where anchored certificates' public proof records are written as
        ``<issuer>/<number>.json`` (the folder a verifier's ``proof_directories`` names);
        ``None``: only served by ``GET /api/v1/proofs/...``."""
        self.formats = formats
        """The formats of a submission that names none; ``None``: each department's own
        default (PDF and OFD with an SM2 seal, else the PDF alone)."""
        self._proofs_caught_up = False
        self.work_lock = WorkLock(sessions.kw["bind"])
        self._permits = (
            RegistryPermits(registry, ttl_seconds=permit_ttl.total_seconds())
            if registry is not None
            else None
        )

    def __repr__(self) -> str:
        return f"Pipeline({sorted(self.departments)!r})"

    def department(self, issuer_id: str) -> Department:
        try:
            return self.departments[issuer_id]
        except KeyError as exc:
            raise PipelineError(f"this site does not issue for {issuer_id}") from exc

    def formats_for(
        self, issuer_id: str, requested: tuple[Format, ...] | None = None
    ) -> tuple[Format, ...]:
        """The formats a submission is issued in: ``requested``, else the pipeline's, else the
        department's default; ``FormatUnavailable`` for an OFD from a department without an
        SM2 seal."""
        dept = self.department(issuer_id)
        chosen = requested or self.formats or dept.default_formats
        if Format.OFD in chosen and dept.ofd_sealer is None:
            raise FormatUnavailable(
                f"{issuer_id} has no SM2 seal, so it cannot issue OFD "
                "(ecert pki issue-seal --sm2); issue the PDF alone (formats: pdf)"
            )
        return chosen

    def keep_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Append a checkpoint (already in the database) to the file outside it."""
        if self.checkpoint_file is None:
            return
        try:
            self.checkpoint_file.append(checkpoint)
        except CheckpointFileError as exc:  # the database copy stands; the next one may land
            log.error("audit checkpoint %s kept in the database only: %s", checkpoint.entries, exc)

    # ------------------------------------------------------------------ receive

    def submit(
        self,
        issuer_id: str,
        submissions: Sequence[Submission],
        *,
        actor: str = "system",
        formats: tuple[Format, ...] | None = None,
    ) -> list[SubmitResult]:
        """Check every record and durably store the valid ones, with their audit entry, in one
        transaction before returning; bad records are reported by field, the rest go on. A
        reference seen before returns the earlier certificate instead of a new one. Refuses the
        whole submission (``PipelineError``) if the registry does not let the issuer issue, or
        (``FormatUnavailable``) if it asks for a format the department cannot issue. The new
        certificates are issued in ``formats`` (see ``formats_for``)."""
        dept = self.department(issuer_id)
        chosen = self.formats_for(issuer_id, formats)
        permit = self._permits.permit(issuer_id) if self._permits is not None else None
        if permit is not None and not permit.registered:
            raise PipelineError(f"the registry does not know issuer {issuer_id}")
        if permit is not None and not permit.active:
            raise PipelineError(f"the registry lists {issuer_id} as suspended: it may not issue")
        results: list[SubmitResult | None] = []
        valid: list[tuple[int, Submission, dict[str, str]]] = []
        for position, sub in enumerate(submissions):
            try:
                claims = checked_claims(sub, permit)
            except ClaimsInvalid as invalid:
                results.append(SubmitResult(sub.reference, None, None, invalid.errors))
                continue
            results.append(None)
            valid.append((position, sub, claims))
        try:
            stored = self._store_all(dept, [(s, c) for _, s, c in valid], actor, chosen)
        except IntegrityError:  # a concurrent request stored one of these references first
            stored = [self._store_all(dept, [(s, c)], actor, chosen)[0] for _, s, c in valid]
        for (position, _, _), result in zip(valid, stored, strict=True):
            results[position] = result
        return [r for r in results if r is not None]

    def _store_all(
        self,
        dept: Department,
        items: Sequence[tuple[Submission, dict[str, str]]],
        actor: str,
        formats: tuple[Format, ...] = PDF_ONLY,
    ) -> list[SubmitResult]:
        if not items:
            return []
        with self.sessions() as session:
            references = list({sub.reference for sub, _ in items})
            known: dict[str, Certificate] = {}
            for start in range(0, len(references), 500):
                for cert in session.scalars(
                    select(Certificate).where(
                        Certificate.issuer_id == dept.issuer_id,
                        Certificate.reference.in_(references[start : start + 500]),
                    )
                ):
                    known[cert.reference] = cert
            now = datetime.now(UTC).replace(microsecond=0)
            fresh: list[Certificate] = []
            order: list[tuple[Certificate, bool]] = []
            for sub, claims in items:
                if sub.reference in known:
                    order.append((known[sub.reference], True))
                    continue
                until = (
                    datetime.combine(sub.valid_until, time(23, 59, 59), tzinfo=UTC)
                    if sub.valid_until
                    else None
                )
                secret = os.urandom(32)
                bound = with_holder(claims, sub, secret)
                cert = Certificate(
                    issuer_id=dept.issuer_id,
                    cert_type=sub.cert_type,
                    reference=sub.reference,
                    certificate_id=f"pending-{uuid.uuid4().hex}",  # numbered once it has an id
                    claims=bound,
                    claims_secret=secret,
                    issued_at=now,
                    valid_from=now,
                    valid_until=until,
                    holder_names=holder_names(sub.cert_type, bound),
                    formats=format_text(formats),
                )
                session.add(cert)
                known[sub.reference] = cert
                fresh.append(cert)
                order.append((cert, False))
            session.flush()
            for cert in fresh:
                prefix = catalogue()[cert.cert_type].number_prefix
                cert.certificate_id = f"{now.year}{prefix}{cert.id:08d}"
                record_progress(session, cert, CertStatus.RECEIVED)
            if fresh:
                numbers = [c.certificate_id for c in fresh]
                append_audit(
                    session,
                    actor,
                    "ISSUE",
                    dept.issuer_id,
                    {"certificates": numbers, "count": len(numbers)},
                )
            session.commit()
            return [
                SubmitResult(c.reference, c.certificate_id, c.status, duplicate=dup)
                for c, dup in order
            ]

    # ------------------------------------------------------------------ seal

    def seal_pending(self, limit: int = 64) -> int:
        """Render and seal up to ``limit`` received certificates (in the sealing pool's worker
        processes when there is one); returns how many were taken. Results are written as they
        arrive and committed in one transaction; a record that cannot be sealed is marked
        ``FAILED`` with its reason in the same transaction, and the others are stored."""
        return self._seal_chunk(limit)[0]

    def _seal_chunk(self, limit: int) -> tuple[int, int]:
        """``(records taken, records FAILED)``."""
        with self.work_lock.held() as mine:
            if not mine:
                return 0, 0
            jobs, failures = self._jobs(limit)
            if not jobs and not failures:
                return 0, 0
            outcomes: Iterable[SealOutcome]
            if self.sealing_pool is not None:
                outcomes = self.sealing_pool.seal(jobs)
            else:
                outcomes = (try_seal(self.department(j.issuer_id), j) for j in jobs)
            pks = [j.pk for j in jobs] + [f.pk for f in failures]
            return len(pks), self._store_outcomes(pks, itertools.chain(failures, outcomes))

    def _jobs(self, limit: int) -> tuple[list[SealJob], list[SealFailure]]:
        jobs: list[SealJob] = []
        failures: list[SealFailure] = []
        with self.sessions() as session:
            for cert in session.scalars(
                select(Certificate)
                .where(
                    Certificate.status == CertStatus.RECEIVED.value,
                    Certificate.issuer_id.in_(list(self.departments)),
                )
                .order_by(Certificate.id)
                .limit(limit)
            ):
                try:
                    jobs.append(self._job(cert))
                except Exception as exc:  # a stored record too damaged to make a job of
                    failures.append(SealFailure(cert.id, f"unreadable record: {exc}", "record"))
        return jobs, failures

    def _store_outcomes(self, pks: Sequence[int], outcomes: Iterable[SealOutcome]) -> int:
        with self.sessions() as session:
            pending = {
                c.id: c for c in session.scalars(select(Certificate).where(Certificate.id.in_(pks)))
            }
            failed: dict[str, list[str]] = {}
            for outcome in outcomes:
                cert = pending.get(outcome.pk)
                if cert is None or cert.status != CertStatus.RECEIVED.value:
                    continue
                if isinstance(outcome, SealFailure):
                    cert.failure_reason = f"sealing failed: {outcome.reason}"[:500]
                    record_progress(session, cert, CertStatus.FAILED, cert.failure_reason)
                    failed.setdefault(cert.issuer_id, []).append(cert.certificate_id)
                    log.warning(
                        "certificate %s FAILED (%s); the others go on",
                        cert.certificate_id,
                        outcome.kind,
                    )
                    continue
                cert.claims_commitment = outcome.claims_commitment
                cert.document_digest = outcome.document_digest
                cert.leaf = outcome.leaf
                cert.leaf_version = outcome.leaf_version
                cert.qr_text = outcome.qr_text
                cert.ofd_digest = outcome.ofd_digest
                session.add(Document(certificate_pk=cert.id, pdf=outcome.pdf, ofd=outcome.ofd))
                record_progress(session, cert, CertStatus.SEALED, outcome.level)
            for issuer_id, numbers in failed.items():
                append_audit(
                    session,
                    "pipeline",
                    "SEAL_FAILED",
                    issuer_id,
                    {"certificates": numbers, "count": len(numbers)},
                )
            session.commit()
        return sum(len(numbers) for numbers in failed.values())

    def _job(self, cert: Certificate) -> SealJob:
        return SealJob(
            pk=cert.id,
            issuer_id=cert.issuer_id,
            cert_type=cert.cert_type,
            certificate_id=cert.certificate_id,
            claims=dict(cert.claims),
            claims_secret=cert.claims_secret,
            issued_at=aware(cert.issued_at),
            valid_from=aware(cert.valid_from),
            valid_until=aware(cert.valid_until) if cert.valid_until else None,
            formats=parse_formats(cert.formats or "pdf"),
        )

    # ------------------------------------------------------------------ batch

    def close_batches(self, *, now: datetime | None = None, force: bool = False) -> int:
        """Fix Merkle batches of sealed certificates that are full or old enough."""
        now = now or utcnow()
        made = 0
        with self.work_lock.held() as mine:
            if not mine:
                return 0
            with self.sessions() as session:
                groups = session.execute(
                    select(
                        Certificate.issuer_id,
                        Certificate.cert_type,
                        func.count(),
                        func.min(Certificate.updated_at),
                    )
                    .where(
                        Certificate.status == CertStatus.SEALED.value,
                        Certificate.issuer_id.in_(list(self.departments)),
                    )
                    .group_by(Certificate.issuer_id, Certificate.cert_type)
                ).all()
            for issuer_id, cert_type, waiting, oldest in groups:
                count = int(waiting)
                ripe = (
                    force
                    or count >= self.batch_size
                    or (oldest is not None and aware(oldest) <= now - self.batch_window)
                )
                while ripe and count > 0:
                    taken = self._make_batch(issuer_id, cert_type)
                    made += 1 if taken else 0
                    count -= taken
                    ripe = taken > 0 and (force or count >= self.batch_size)
        return made

    def _make_batch(self, issuer_id: str, cert_type: str) -> int:
        with self.sessions() as session:
            certs = session.scalars(
                select(Certificate)
                .where(
                    Certificate.status == CertStatus.SEALED.value,
                    Certificate.issuer_id == issuer_id,
                    Certificate.cert_type == cert_type,
                )
                .order_by(Certificate.id)
                .limit(self.batch_size)
            ).all()
            if not certs:
                return 0
            tree = MerkleTree([c.leaf or b"" for c in certs])
            batch = Batch(
                issuer_id=issuer_id, cert_type=cert_type, root=tree.root, leaf_count=len(certs)
            )
            session.add(batch)
            session.flush()
            for index, cert in enumerate(certs):
                cert.batch_id = batch.id
                cert.leaf_index = index
                record_progress(session, cert, CertStatus.BATCHED, f"batch {batch.id}")
            session.commit()
            return len(certs)

    # ------------------------------------------------------------------ anchor

    def anchor_pending(self, *, now: datetime | None = None) -> AnchorCounts:
        """Anchor due batches (see ``issuer.anchoring``)."""
        if self.registry is None:
            return AnchorCounts(0, 0, 0, 0)
        with self.work_lock.held() as mine:
            if not mine:
                return AnchorCounts(0, 0, 0, 0)
            anchorer = Anchorer(
                self.sessions, self.registry, self.department, self.max_backoff,
                self.keep_checkpoint,
            )  # fmt: skip
            counts = anchorer.anchor_due(list(self.departments), now or utcnow())
            if counts.anchored or not self._proofs_caught_up:
                self.publish_proofs()  # the first pass catches up on what a crash left unwritten
                self._proofs_caught_up = True
            return counts

    def publish_proofs(self, chunk: int = 1000) -> int:
        """Write the public proof record of every anchored certificate not written yet into
        ``proof_folder`` (each file whole or not at all); returns how many were written."""
        if self.proof_folder is None:
            return 0
        written = 0
        while True:
            done = self._publish_chunk(self.proof_folder, chunk)
            written += done
            if done < chunk:
                return written

    def _publish_chunk(self, proof_folder: Path, chunk: int) -> int:
        with self.sessions() as session:
            certs = session.scalars(
                select(Certificate)
                .where(
                    Certificate.status.in_([CertStatus.ANCHORED.value, CertStatus.REVOKED.value]),
                    Certificate.issuer_id.in_(list(self.departments)),
                    Certificate.proof_published.is_not(True),
                )
                .order_by(Certificate.id)
                .limit(chunk)
            ).all()
            for cert in certs:
                cert.proof_published = True
                if cert.proof is None:
                    continue
                folder = proof_folder / cert.issuer_id
                folder.mkdir(parents=True, exist_ok=True)
                target = folder / f"{cert.certificate_id}.json"
                partial = target.with_suffix(".json.part")
                partial.write_text(json.dumps(self._proof_record(cert).to_json(), indent=1))
                partial.replace(target)
            session.commit()
            return len(certs)

    # ------------------------------------------------------------------ loop

    def run_once(
        self, *, force_batches: bool = False, seal_limit: int = 64, seal_all: bool = True
    ) -> StepCounts:
        """Seal everything received (``seal_all=False``: one chunk of ``seal_limit``, so a
        caller can show progress), close ripe batches, anchor due ones. If another process
        holds the store's work lock, does nothing and says so (``busy``)."""
        counts = StepCounts()
        with self.work_lock.held() as mine:
            if not mine:
                counts.busy = True
                return counts
            while True:
                taken, failed = self._seal_chunk(seal_limit)
                counts.sealed += taken
                counts.failed_certificates += failed
                if taken == 0 or not seal_all:
                    break
            counts.batched = self.close_batches(force=force_batches)
            anchored = self.anchor_pending()
        counts.anchored_batches, counts.anchored_certificates = anchored[:2]
        counts.waiting_batches, counts.failed_batches = anchored[2:]
        return counts

    # ------------------------------------------------------------------ read and revoke

    def number_of_reference(self, issuer_id: str, reference: str) -> str | None:
        """The number of the department's certificate submitted under ``reference`` (its own
        case number), if it has one yet."""
        with self.sessions() as session:
            number = session.scalars(
                select(Certificate.certificate_id).where(
                    Certificate.issuer_id == issuer_id, Certificate.reference == reference
                )
            ).first()
        return number or None

    def certificate(self, issuer_id: str, certificate_id: str) -> dict[str, Any]:
        """Status, progress trail, why it failed (if it did) and, once anchored, the
        inclusion proof."""
        with self.sessions() as session:
            cert = self._find(session, issuer_id, certificate_id)
            events = session.scalars(
                select(ProgressEvent)
                .where(ProgressEvent.certificate_pk == cert.id)
                .order_by(ProgressEvent.id)
            ).all()
            return {
                "certificate_id": cert.certificate_id,
                "issuer_id": cert.issuer_id,
                "cert_type": cert.cert_type,
                "reference": cert.reference,
                "status": cert.status,
                "failure_reason": cert.failure_reason,
                "progress": [
                    {"status": e.status, "at": aware(e.at).isoformat(), "detail": e.detail}
                    for e in events
                ],
                "formats": (cert.formats or "pdf").split(","),
                "proof": cert.proof,
                "qr": cert.qr_text,
                "revocation_reason": cert.revocation_reason,
            }

    def public_proof(self, issuer_id: str, certificate_id: str) -> dict[str, Any]:
        """The public proof record (``ledger.proofrecord``) of an anchored certificate: leaf
        values (hashes and codes, nothing personal) and the Merkle path, for verifiers."""
        with self.sessions() as session:
            return self._proof_record(self._find(session, issuer_id, certificate_id)).to_json()

    @staticmethod
    def _proof_record(cert: Certificate) -> ProofRecord:
        proof = cert.proof
        if proof is None or cert.claims_commitment is None or cert.document_digest is None:
            raise PipelineError(f"{cert.certificate_id} is not anchored yet")
        return ProofRecord(
            issuer_id=cert.issuer_id,
            cert_type=cert.cert_type,
            certificate_id=cert.certificate_id,
            claims_commitment=cert.claims_commitment,
            document_digest=cert.document_digest,
            valid_from=aware(cert.valid_from),
            valid_until=aware(cert.valid_until) if cert.valid_until else None,
            root=bytes.fromhex(proof["root"]),
            siblings=tuple(bytes.fromhex(s) for s in proof["siblings"]),
            index=int(proof["index"]),
            block=int(proof["block"]),
            leaf_version=cert.leaf_version or 1,
            ofd_digest=cert.ofd_digest if (cert.leaf_version or 1) >= 3 else None,
        )

    def pdf(self, issuer_id: str, certificate_id: str) -> bytes:
        """The sealed PDF; ``PipelineError`` if not sealed yet or issued without one."""
        return self._document(issuer_id, certificate_id, Format.PDF)

    def ofd(self, issuer_id: str, certificate_id: str) -> bytes:
        """The sealed OFD file (the exact bytes its leaf binds); ``PipelineError`` if not
        sealed yet or issued without one."""
        return self._document(issuer_id, certificate_id, Format.OFD)

    def _document(self, issuer_id: str, certificate_id: str, kind: Format) -> bytes:
        with self.sessions() as session:
            cert = self._find(session, issuer_id, certificate_id)
            doc = session.get(Document, cert.id)
            if doc is None:
                raise PipelineError(f"{certificate_id} is not sealed yet")
            data = doc.pdf if kind is Format.PDF else doc.ofd
            if not data:
                issued = cert.formats or "pdf"
                raise PipelineError(f"{certificate_id} was issued without {kind.name} ({issued})")
            return data

    def revoke(
        self,
        issuer_id: str,
        certificate_id: str,
        reason: RevocationReason,
        *,
        actor: str = "system",
    ) -> None:
        """Revoke an anchored certificate on chain (needs the node); the revocation, its audit
        entry and a signed checkpoint are committed together once the chain has it."""
        if self.registry is None:
            raise PipelineError("no chain configured")
        dept = self.department(issuer_id)
        with self.sessions() as session:
            cert = self._find(session, issuer_id, certificate_id)
            if cert.status == CertStatus.REVOKED.value:
                return
            if cert.status != CertStatus.ANCHORED.value or not cert.proof:
                raise PipelineError(f"{certificate_id} is {cert.status}, not anchored yet")
            proof = cert.proof
            self.registry.revoke_certificate(
                dept.account,
                issuer_id,
                bytes.fromhex(proof["root"]),
                bytes.fromhex(proof["leaf"]),
                [bytes.fromhex(s) for s in proof["siblings"]],
                reason,
            )
            cert.revocation_reason = int(reason)
            cert.revoked_at = utcnow()
            record_progress(session, cert, CertStatus.REVOKED, reason.name)
            append_audit(
                session, actor, "REVOKE", f"{issuer_id}/{certificate_id}", {"reason": reason.name}
            )
            checkpoint = sign_checkpoint(session, dept.account, issuer_id)
            session.commit()
        self.keep_checkpoint(checkpoint)

    @staticmethod
    def _find(session: Session, issuer_id: str, certificate_id: str) -> Certificate:
        cert = session.scalars(
            select(Certificate).where(
                Certificate.issuer_id == issuer_id,
                Certificate.certificate_id == certificate_id,
            )
        ).first()
        if cert is None:
            raise PipelineError(f"no certificate {certificate_id} for {issuer_id}")
        return cert
