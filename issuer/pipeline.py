"""The issuing pipeline: receive → seal → batch → anchor, each step durable and idempotent.

- ``submit`` validates records and stores them before returning, so an acknowledged request
  survives any crash; a repeated ``reference`` returns the first submission, never a duplicate.
- ``seal_pending`` renders, seals and fixes each certificate's leaf (one transaction each).
- ``close_batches`` groups sealed certificates into Merkle batches by size or age.
- ``anchor_pending`` records batch roots on chain. Before sending it asks the chain whether the
  root is already there (a crash after sending), and the contract refuses a root twice, so no
  batch is anchored twice. If the node cannot be reached, batches wait and are retried with
  exponential backoff; issuing goes on meanwhile (离线模式).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from issuer.audit import append_audit
from issuer.department import Department
from issuer.sealing import SealedCertificate, SealingPool, SealJob, seal_job
from issuer.store import (
    Batch,
    BatchStatus,
    Certificate,
    CertStatus,
    Document,
    ProgressEvent,
    utcnow,
)
from ledger.catalogue import ClaimsInvalid, FieldError, catalogue, validate
from ledger.codes import RevocationReason
from ledger.errors import LedgerError, NodeUnavailable, RegistryRefused, TransactionRejected
from ledger.merkle import MerkleTree
from ledger.presentation import HOLDER_CLAIM, PresentationError, holder_claim_value
from ledger.proofrecord import ProofRecord
from ledger.registry import Registry

__all__ = ["Pipeline", "PipelineError", "StepCounts", "Submission", "SubmitResult"]

log = logging.getLogger("ecert.issuer")
MAX_BACKOFF = timedelta(seconds=60)


class PipelineError(LedgerError):
    """A pipeline request that cannot be carried out (unknown certificate, wrong state...)."""


@dataclass(frozen=True)
class Submission:
    """One record to issue."""

    reference: str
    """Caller's idempotency key (e.g. its case number); unique per issuer."""
    cert_type: str
    record: Mapping[str, object]
    valid_until: date | None = None
    holder_key: str | None = None
    """The holder's account (``ecert wallet new``), committed as the ``holder_key`` claim so
    the holder can later present chosen fields; an address, no personal data."""


@dataclass(frozen=True)
class SubmitResult:
    reference: str
    certificate_id: str | None
    status: str | None
    errors: list[FieldError] = field(default_factory=list)
    duplicate: bool = False

    @property
    def accepted(self) -> bool:
        return self.certificate_id is not None


@dataclass
class StepCounts:
    sealed: int = 0
    batched: int = 0
    anchored_batches: int = 0
    anchored_certificates: int = 0
    waiting_batches: int = 0


def _progress(session: Session, cert: Certificate, status: CertStatus, detail: str = "") -> None:
    cert.status = status.value
    session.add(ProgressEvent(certificate_pk=cert.id, status=status.value, detail=detail))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    ) -> None:
        self.sessions = sessions
        self.departments = {d.issuer_id: d for d in departments}
        self.registry = registry
        self.batch_size = batch_size
        self.batch_window = batch_window
        self.max_backoff = max_backoff
        self.sealing_pool = sealing_pool

    def department(self, issuer_id: str) -> Department:
        try:
            return self.departments[issuer_id]
        except KeyError as exc:
            raise PipelineError(f"this site does not issue for {issuer_id}") from exc

    # ------------------------------------------------------------------ receive

    def submit(
        self, issuer_id: str, submissions: Sequence[Submission], *, actor: str = "system"
    ) -> list[SubmitResult]:
        """Validate every record and durably store the valid ones in one transaction before
        returning; bad records are reported by field, the rest go on. A reference seen before
        returns the earlier certificate instead of a new one."""
        dept = self.department(issuer_id)
        results: list[SubmitResult | None] = []
        valid: list[tuple[int, Submission, dict[str, str]]] = []
        for position, sub in enumerate(submissions):
            try:
                claims = validate(sub.cert_type, sub.record)
                self._check_validity(sub)
                if sub.holder_key:
                    try:
                        claims[HOLDER_CLAIM] = holder_claim_value(sub.holder_key)
                    except PresentationError as exc:
                        raise ClaimsInvalid(
                            sub.cert_type, [FieldError(HOLDER_CLAIM, str(exc))]
                        ) from exc
            except ClaimsInvalid as invalid:
                results.append(SubmitResult(sub.reference, None, None, invalid.errors))
                continue
            results.append(None)
            valid.append((position, sub, claims))
        try:
            stored = self._store_all(dept, [(s, c) for _, s, c in valid])
        except IntegrityError:  # a concurrent request stored one of these references first
            stored = [self._store_all(dept, [(s, c)])[0] for _, s, c in valid]
        for (position, _, _), result in zip(valid, stored, strict=True):
            results[position] = result
        accepted = [r.certificate_id for r in stored if not r.duplicate and r.certificate_id]
        if accepted:
            append_audit(
                self.sessions,
                actor,
                "ISSUE",
                issuer_id,
                {"certificates": accepted, "count": len(accepted)},
            )
        return [r for r in results if r is not None]

    @staticmethod
    def _check_validity(sub: Submission) -> None:
        spec = catalogue()[sub.cert_type]
        if sub.valid_until is not None and spec.validity == "none":
            raise ClaimsInvalid(
                sub.cert_type, [FieldError("valid_until", "this type does not expire")]
            )
        if sub.valid_until is None and spec.validity == "required":
            raise ClaimsInvalid(sub.cert_type, [FieldError("valid_until", "is required")])
        if sub.valid_until is not None and sub.valid_until <= datetime.now(UTC).date():
            raise ClaimsInvalid(sub.cert_type, [FieldError("valid_until", "must be in the future")])

    def _store_all(
        self, dept: Department, items: Sequence[tuple[Submission, dict[str, str]]]
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
                cert = Certificate(
                    issuer_id=dept.issuer_id,
                    cert_type=sub.cert_type,
                    reference=sub.reference,
                    certificate_id=f"pending-{uuid.uuid4().hex}",  # numbered once it has an id
                    claims=claims,
                    claims_secret=os.urandom(32),
                    issued_at=now,
                    valid_from=now,
                    valid_until=until,
                )
                session.add(cert)
                known[sub.reference] = cert
                fresh.append(cert)
                order.append((cert, False))
            session.flush()
            for cert in fresh:
                prefix = catalogue()[cert.cert_type].number_prefix
                cert.certificate_id = f"{now.year}{prefix}{cert.id:08d}"
                _progress(session, cert, CertStatus.RECEIVED)
            session.commit()
            return [
                SubmitResult(c.reference, c.certificate_id, c.status, duplicate=dup)
                for c, dup in order
            ]

    # ------------------------------------------------------------------ seal

    def seal_pending(self, limit: int = 64) -> int:
        """Render and seal up to ``limit`` received certificates (in the sealing pool's worker
        processes when there is one). Results are written as they arrive, overlapping the
        workers, and committed in one transaction."""
        with self.sessions() as session:
            certs = session.scalars(
                select(Certificate)
                .where(Certificate.status == CertStatus.RECEIVED.value)
                .order_by(Certificate.id)
                .limit(limit)
            ).all()
            jobs = [self._job(c) for c in certs]
        if not jobs:
            return 0
        if self.sealing_pool is not None:
            results: Iterable[SealedCertificate] = self.sealing_pool.map(jobs)
        else:
            results = (seal_job(self.department(j.issuer_id), j) for j in jobs)
        with self.sessions() as session:
            pending = {
                c.id: c
                for c in session.scalars(
                    select(Certificate).where(Certificate.id.in_([j.pk for j in jobs]))
                )
            }
            for result in results:
                cert = pending.get(result.pk)
                if cert is None or cert.status != CertStatus.RECEIVED.value:
                    continue
                cert.claims_commitment = result.claims_commitment
                cert.document_digest = result.document_digest
                cert.leaf = result.leaf
                cert.qr_text = result.qr_text
                session.add(Document(certificate_pk=cert.id, pdf=result.pdf))
                _progress(session, cert, CertStatus.SEALED, result.level)
            session.commit()
        return len(jobs)

    def _job(self, cert: Certificate) -> SealJob:
        self.department(cert.issuer_id)  # refuse early what this site cannot seal
        return SealJob(
            pk=cert.id,
            issuer_id=cert.issuer_id,
            cert_type=cert.cert_type,
            certificate_id=cert.certificate_id,
            claims=dict(cert.claims),
            claims_secret=cert.claims_secret,
            issued_at=_aware(cert.issued_at),
            valid_from=_aware(cert.valid_from),
            valid_until=_aware(cert.valid_until) if cert.valid_until else None,
        )

    # ------------------------------------------------------------------ batch

    def close_batches(self, *, now: datetime | None = None, force: bool = False) -> int:
        """Fix Merkle batches of sealed certificates that are full or old enough."""
        now = now or utcnow()
        made = 0
        with self.sessions() as session:
            groups = session.execute(
                select(
                    Certificate.issuer_id,
                    Certificate.cert_type,
                    func.count(),
                    func.min(Certificate.updated_at),
                )
                .where(Certificate.status == CertStatus.SEALED.value)
                .group_by(Certificate.issuer_id, Certificate.cert_type)
            ).all()
        for issuer_id, cert_type, waiting, oldest in groups:
            count = int(waiting)
            ripe = (
                force
                or count >= self.batch_size
                or (oldest is not None and _aware(oldest) <= now - self.batch_window)
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
                _progress(session, cert, CertStatus.BATCHED, f"batch {batch.id}")
            session.commit()
            return len(certs)

    # ------------------------------------------------------------------ anchor

    def anchor_pending(self, *, now: datetime | None = None) -> tuple[int, int, int]:
        """Anchor due batches: ``(batches anchored, certificates anchored, batches waiting)``."""
        if self.registry is None:
            return 0, 0, 0
        now = now or utcnow()
        with self.sessions() as session:
            due = session.scalars(
                select(Batch)
                .where(
                    Batch.status == BatchStatus.PENDING.value,
                    Batch.next_attempt_at <= now,
                )
                .order_by(Batch.id)
            ).all()
        anchored = certificates = waiting = 0
        for batch in due:
            try:
                result = self._anchor_one(batch)
            except (NodeUnavailable, TransactionRejected, RegistryRefused) as exc:
                self._defer(batch.id, exc)
                waiting += 1
                if isinstance(exc, NodeUnavailable):
                    waiting += self._defer_rest(due, batch, exc)
                    break
                continue
            anchored += 1
            certificates += result
        return anchored, certificates, waiting

    def _defer_rest(self, due: Sequence[Batch], failed: Batch, exc: Exception) -> int:
        rest = [b for b in due if b.id > failed.id]
        for batch in rest:
            self._defer(batch.id, exc)
        return len(rest)

    def _anchor_one(self, batch: Batch) -> int:
        assert self.registry is not None
        dept = self.department(batch.issuer_id)
        # Anchors are keyed by (issuer, root): another issuer's copy of this root is its own
        # anchor and never stands in for ours, so only our issuer's is looked up.
        on_chain = self.registry.anchor_of(batch.issuer_id, batch.root)
        tx_hash: bytes | None = None
        if on_chain is None:
            try:
                sent = self.registry.anchor(
                    dept.account, batch.root, batch.leaf_count, batch.cert_type
                )
                tx_hash = sent.tx_hash
            except RegistryRefused as refused:
                if refused.error != "CertificateRegistryRootAlreadyAnchored":
                    raise
            on_chain = self.registry.anchor_of(batch.issuer_id, batch.root)
            if on_chain is None:
                raise NodeUnavailable("anchor transaction not visible on chain yet")
        return self._mark_anchored(batch.id, on_chain.block_number, on_chain.timestamp, tx_hash)

    def _mark_anchored(self, batch_id: int, block: int, at: datetime, tx_hash: bytes | None) -> int:
        with self.sessions() as session:
            batch = session.get(Batch, batch_id)
            if batch is None or batch.status == BatchStatus.ANCHORED.value:
                return 0
            certs = session.scalars(
                select(Certificate)
                .where(Certificate.batch_id == batch_id)
                .order_by(Certificate.leaf_index)
            ).all()
            tree = MerkleTree([c.leaf or b"" for c in certs])
            if tree.root != batch.root:
                raise PipelineError(f"batch {batch_id} no longer matches its root")
            for cert in certs:
                proof = tree.proof(cert.leaf_index or 0)
                cert.proof = {
                    "root": proof.root.hex(),
                    "leaf": proof.leaf.hex(),
                    "index": proof.index,
                    "siblings": [s.hex() for s in proof.siblings],
                    "block": block,
                }
                _progress(session, cert, CertStatus.ANCHORED, f"block {block}")
            batch.status = BatchStatus.ANCHORED.value
            batch.block_number = block
            batch.anchored_at = at
            batch.tx_hash = tx_hash
            batch.last_error = None
            session.commit()
            return len(certs)

    def _defer(self, batch_id: int, exc: Exception) -> None:
        with self.sessions() as session:
            batch = session.get(Batch, batch_id)
            if batch is None:
                return
            batch.attempts += 1
            delay = min(timedelta(seconds=0.5 * 2 ** min(batch.attempts, 10)), self.max_backoff)
            batch.next_attempt_at = utcnow() + delay
            batch.last_error = f"{type(exc).__name__}: {exc}"[:500]
            session.commit()
        log.warning("batch %s waits %s: %s", batch_id, delay, exc)

    # ------------------------------------------------------------------ loop

    def run_once(self, *, force_batches: bool = False) -> StepCounts:
        counts = StepCounts()
        while (sealed := self.seal_pending()) > 0:
            counts.sealed += sealed
        counts.batched = self.close_batches(force=force_batches)
        counts.anchored_batches, counts.anchored_certificates, counts.waiting_batches = (
            self.anchor_pending()
        )
        return counts

    # ------------------------------------------------------------------ read and revoke

    def certificate(self, issuer_id: str, certificate_id: str) -> dict[str, Any]:
        """Status, progress trail and (once anchored) the inclusion proof."""
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
                "progress": [
                    {"status": e.status, "at": _aware(e.at).isoformat(), "detail": e.detail}
                    for e in events
                ],
                "proof": cert.proof,
                "qr": cert.qr_text,
                "revocation_reason": cert.revocation_reason,
            }

    def owner_of(self, certificate_id: str) -> str | None:
        """The issuer of a certificate number, whichever department it belongs to."""
        with self.sessions() as session:
            found = session.scalars(
                select(Certificate.issuer_id).where(Certificate.certificate_id == certificate_id)
            ).first()
            return None if found is None else str(found)

    def public_proof(self, issuer_id: str, certificate_id: str) -> dict[str, Any]:
        """The public proof record (``ledger.proofrecord``) of an anchored certificate: leaf
        values (hashes and codes, nothing personal) and the Merkle path, for verifiers."""
        with self.sessions() as session:
            cert = self._find(session, issuer_id, certificate_id)
            proof = cert.proof
            if proof is None or cert.claims_commitment is None or cert.document_digest is None:
                raise PipelineError(f"{certificate_id} is not anchored yet")
            return ProofRecord(
                issuer_id=cert.issuer_id,
                cert_type=cert.cert_type,
                certificate_id=cert.certificate_id,
                claims_commitment=cert.claims_commitment,
                document_digest=cert.document_digest,
                valid_from=_aware(cert.valid_from),
                valid_until=_aware(cert.valid_until) if cert.valid_until else None,
                root=bytes.fromhex(proof["root"]),
                siblings=tuple(bytes.fromhex(s) for s in proof["siblings"]),
                index=int(proof["index"]),
                block=int(proof["block"]),
            ).to_json()

    def pdf(self, issuer_id: str, certificate_id: str) -> bytes:
        with self.sessions() as session:
            cert = self._find(session, issuer_id, certificate_id)
            doc = session.get(Document, cert.id)
            if doc is None:
                raise PipelineError(f"{certificate_id} is not sealed yet")
            return doc.pdf

    def revoke(
        self,
        issuer_id: str,
        certificate_id: str,
        reason: RevocationReason,
        *,
        actor: str = "system",
    ) -> None:
        """Revoke an anchored certificate on chain (needs the node)."""
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
            _progress(session, cert, CertStatus.REVOKED, reason.name)
            session.commit()
        append_audit(
            self.sessions, actor, "REVOKE", f"{issuer_id}/{certificate_id}", {"reason": reason.name}
        )

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
