"""The anchor step of the pipeline: record due batch roots on chain.

Before sending, the chain is asked whether the root is already there (a crash after sending),
and the contract refuses a root twice, so no batch is anchored twice. What goes wrong is sorted
by whether waiting can fix it:

- with several nodes (the province's own first), one that is down or far behind is skipped
  (``ledger.failover``), and a transaction is only ever re-sent as the same signed bytes;
- no node can be reached, or it refuses the transaction before running it (``NodeUnavailable``,
  ``TransactionRejected``): the batch waits and is retried with exponential backoff, and issuing
  goes on meanwhile (离线模式);
- the registry refuses (``RegistryRefused``: issuer suspended, type no longer allowed, account
  not the issuer's...): retrying gives the same answer, so the batch and its certificates end
  ``FAILED`` with the reason, once.

Every outcome that touches the chain is written with its audit entry and a signed checkpoint of
the audit log in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from issuer.audit import append_audit, sign_checkpoint
from issuer.checkpoints import Checkpoint
from issuer.department import Department
from issuer.permits import refusal_reason
from issuer.store import Batch, BatchStatus, Certificate, CertStatus, record_progress, utcnow
from ledger.errors import LedgerError, NodeUnavailable, RegistryRefused, TransactionRejected
from ledger.merkle import MerkleTree
from ledger.registry import Registry

__all__ = ["AnchorCounts", "Anchorer"]

log = logging.getLogger("ecert.issuer")


class AnchorCounts(NamedTuple):
    anchored: int
    """Batches anchored in this pass."""
    certificates: int
    """Certificates in them."""
    waiting: int
    """Batches that will be retried later (node unreachable)."""
    failed: int
    """Batches the registry refused for good (now ``FAILED``)."""


class _StoredMismatch(LedgerError):
    """The stored certificates of a batch no longer give its root."""


@dataclass(frozen=True)
class Anchorer:
    sessions: sessionmaker[Session]
    registry: Registry
    department: Callable[[str], Department]
    max_backoff: timedelta
    keep_checkpoint: Callable[[Checkpoint], None]

    def anchor_due(self, issuer_ids: Sequence[str], now: datetime) -> AnchorCounts:
        with self.sessions() as session:
            due = session.scalars(
                select(Batch)
                .where(
                    Batch.status == BatchStatus.PENDING.value,
                    Batch.next_attempt_at <= now,
                    Batch.issuer_id.in_(issuer_ids),
                )
                .order_by(Batch.id)
            ).all()
        anchored = certificates = waiting = failed = 0
        if due:
            try:  # of several nodes, send through the first that is not far behind the others
                self.registry.chain.prefer_fresh()
            except NodeUnavailable as exc:
                for batch in due:
                    self._defer(batch.id, exc)
                return AnchorCounts(0, 0, len(due), 0)
        for position, batch in enumerate(due):
            try:
                certificates += self._anchor_one(batch)
                anchored += 1
            except (RegistryRefused, _StoredMismatch) as exc:
                self._fail(batch, exc)
                failed += 1
            except (NodeUnavailable, TransactionRejected) as exc:
                self._defer(batch.id, exc)
                waiting += 1
                if isinstance(exc, NodeUnavailable):  # the rest would only time out too
                    for later in due[position + 1 :]:
                        self._defer(later.id, exc)
                    waiting += len(due) - position - 1
                    break
        return AnchorCounts(anchored, certificates, waiting, failed)

    def _anchor_one(self, batch: Batch) -> int:
        dept = self.department(batch.issuer_id)
        # Anchors are keyed by (issuer, root): another issuer's copy of this root is its own
        # anchor and never stands in for ours (nor blocks it), so only ours is looked up.
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
                raise _StoredMismatch(
                    f"the stored certificates of batch {batch_id} no longer give its root"
                )
            for cert in certs:
                proof = tree.proof(cert.leaf_index or 0)
                cert.proof = {
                    "root": proof.root.hex(),
                    "leaf": proof.leaf.hex(),
                    "index": proof.index,
                    "siblings": [s.hex() for s in proof.siblings],
                    "block": block,
                }
                record_progress(session, cert, CertStatus.ANCHORED, f"block {block}")
            batch.status = BatchStatus.ANCHORED.value
            batch.block_number = block
            batch.anchored_at = at
            batch.tx_hash = tx_hash
            batch.last_error = None
            append_audit(
                session,
                "pipeline",
                "ANCHOR",
                batch.issuer_id,
                {"batch": batch_id, "root": batch.root.hex(), "block": block, "count": len(certs)},
            )
            checkpoint = sign_checkpoint(
                session, self.department(batch.issuer_id).account, batch.issuer_id
            )
            session.commit()
        self.keep_checkpoint(checkpoint)
        return len(certs)

    def _fail(self, stale: Batch, exc: LedgerError) -> None:
        reason = refusal_reason(exc) if isinstance(exc, RegistryRefused) else str(exc)
        with self.sessions() as session:
            batch = session.get(Batch, stale.id)
            if batch is None or batch.status != BatchStatus.PENDING.value:
                return
            batch.status = BatchStatus.FAILED.value
            batch.last_error = reason[:500]
            certs = session.scalars(select(Certificate).where(Certificate.batch_id == batch.id))
            count = 0
            for cert in certs:
                cert.failure_reason = f"batch {batch.id}: {reason}"[:500]
                record_progress(session, cert, CertStatus.FAILED, cert.failure_reason)
                count += 1
            append_audit(
                session,
                "pipeline",
                "ANCHOR_FAILED",
                batch.issuer_id,
                {"batch": batch.id, "root": batch.root.hex(), "count": count, "reason": reason},
            )
            checkpoint = sign_checkpoint(
                session, self.department(batch.issuer_id).account, batch.issuer_id
            )
            session.commit()
        self.keep_checkpoint(checkpoint)
        log.error("batch %s FAILED for good, %d certificates: %s", stale.id, count, reason)

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
