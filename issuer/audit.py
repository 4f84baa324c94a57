"""The hash-chained audit log of issuance and revocation.

Entry ``n`` stores ``sha256(canonical JSON of its fields + entry n-1's hash)``; changing,
removing or reordering any entry breaks every hash after it, which ``verify_audit`` reports.
Appends are serialised by the primary key: two writers racing for the same ``seq`` cannot both
commit, and the loser retries with the next one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from issuer.store import AuditEntry

__all__ = ["AuditProblem", "append_audit", "entry_hash", "verify_audit"]

GENESIS = "0" * 64


def entry_hash(
    seq: int,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    body = json.dumps(
        {
            "seq": seq,
            "at": at.astimezone(UTC).isoformat(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "details": details,
            "prev": prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append_audit(
    sessions: sessionmaker[Session],
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any] | None = None,
    *,
    attempts: int = 20,
) -> int:
    """Append one entry in its own transaction; returns its sequence number."""
    details = details or {}
    for _ in range(attempts):
        with sessions() as session:
            last = session.scalars(
                select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)
            ).first()
            seq = 1 if last is None else last.seq + 1
            prev = GENESIS if last is None else last.entry_hash
            at = datetime.now(UTC).replace(microsecond=0)
            session.add(
                AuditEntry(
                    seq=seq,
                    at=at,
                    actor=actor,
                    action=action,
                    subject=subject,
                    details=details,
                    prev_hash=prev,
                    entry_hash=entry_hash(
                        seq,
                        at=at,
                        actor=actor,
                        action=action,
                        subject=subject,
                        details=details,
                        prev_hash=prev,
                    ),
                )
            )
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                continue
            return seq
    raise RuntimeError("could not append to the audit log")


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int
    message: str


def verify_audit(session: Session) -> tuple[int, list[AuditProblem]]:
    """``(entries checked, problems)``; no problems means the chain is intact."""
    problems: list[AuditProblem] = []
    prev = GENESIS
    expected_seq = 1
    count = 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        count += 1
        if entry.seq != expected_seq:
            problems.append(
                AuditProblem(entry.seq, f"expected entry {expected_seq}: entries missing")
            )
        if entry.prev_hash != prev:
            problems.append(AuditProblem(entry.seq, "does not follow the previous entry"))
        at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
        recomputed = entry_hash(
            entry.seq,
            at=at,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.entry_hash:
            problems.append(AuditProblem(entry.seq, "content was changed after it was written"))
        prev = entry.entry_hash
        expected_seq = entry.seq + 1
    return count, problems
