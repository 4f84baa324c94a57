"""The hash-chained audit log of issuance, sealing failures, anchoring and revocation, and its
signed checkpoints.

Entry ``n`` stores ``sha256(canonical JSON of its fields + entry n-1's hash)``. ``append_audit``
writes it inside the transaction of the change it records, so the change and its entry commit
together or not at all; it first bumps the single ``audit_head`` row, which serialises
appenders until they commit.

The hash chain alone catches an edited entry, but not entries cut from the end, a wiped log, or
a log rebuilt with recomputed hashes. So whenever a batch is anchored or refused and whenever a
certificate is revoked, the pipeline also signs a checkpoint of the head (``issuer.checkpoints``)
with the department's chain account, stored in the database and in a file outside it.
``check_audit`` checks the chain and then that the log still holds every checkpointed entry
with the same hash: nothing up to the newest checkpoint can be removed, replaced or rewritten
without the department's key. Entries after it are protected by the hash chain only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuer.checkpoints import Checkpoint, CheckpointFile
from issuer.store import AuditCheckpoint, AuditEntry, AuditHead

__all__ = [
    "AuditProblem",
    "AuditReport",
    "append_audit",
    "check_audit",
    "entry_hash",
    "sign_checkpoint",
    "verify_audit",
]

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
    session: Session,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry to ``session``'s transaction (the caller commits it with its change)."""
    details = details or {}
    bumped = session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(entries=AuditHead.entries + 1)
        .returning(AuditHead.entries, AuditHead.entry_hash)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if bumped is None:
        raise RuntimeError("the store has no audit head: open it with issuer.store.open_store")
    seq, prev = int(bumped[0]), str(bumped[1])
    at = datetime.now(UTC).replace(microsecond=0)
    digest = entry_hash(
        seq, at=at, actor=actor, action=action, subject=subject, details=details, prev_hash=prev
    )
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details=details,
        prev_hash=prev,
        entry_hash=digest,
    )
    session.add(entry)
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(entry_hash=digest)
        .execution_options(synchronize_session=False)
    )
    return entry


def sign_checkpoint(session: Session, account: LocalAccount, issuer_id: str) -> Checkpoint:
    """Sign the head as ``session``'s transaction sees it (call after ``append_audit`` in the
    same transaction: the head is then this transaction's own last entry) and add the
    checkpoint to the transaction. The caller appends it to the checkpoint file after commit."""
    head = session.execute(
        select(AuditHead.entries, AuditHead.entry_hash).where(AuditHead.id == 1)
    ).one()
    checkpoint = Checkpoint.sign(account, issuer_id, int(head[0]), str(head[1]))
    session.add(
        AuditCheckpoint(
            issuer_id=checkpoint.issuer_id,
            entries=checkpoint.entries,
            entry_hash=checkpoint.entry_hash,
            at=checkpoint.at,
            signer=checkpoint.signer,
            signature="0x" + checkpoint.signature.hex(),
        )
    )
    return checkpoint


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int
    """The entry (or the entry count a checkpoint covers) the problem is about."""
    message: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What ``check_audit`` found."""

    entries: int
    """Entries in the log."""
    checkpoints: int
    """Checkpoints whose signature is valid (database and file together, each counted once)."""
    covered: int
    """Entries covered by the newest valid checkpoint that the log still matches (0: none)."""
    newest: Checkpoint | None
    """The valid checkpoint covering the most entries."""
    signers_checked: bool
    """Whether signers were checked against the site's department accounts (not only against
    the address written in the checkpoint)."""
    problems: tuple[AuditProblem, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def _chain_problems(entries: list[AuditEntry]) -> list[AuditProblem]:
    problems: list[AuditProblem] = []
    prev, expected_seq = GENESIS, 1
    for entry in entries:
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
        prev, expected_seq = entry.entry_hash, entry.seq + 1
    return problems


def _stored_checkpoints(session: Session) -> list[Checkpoint]:
    found = []
    for row in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)):
        try:
            signature = bytes.fromhex(row.signature.removeprefix("0x"))
        except ValueError:
            signature = b""
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
        found.append(
            Checkpoint(row.issuer_id, row.entries, row.entry_hash, at, row.signer, signature)
        )
    return found


def _authentic(checkpoint: Checkpoint, signers: Mapping[str, Collection[str]] | None) -> bool:
    if not checkpoint.signature_ok():
        return False
    return signers is None or checkpoint.signer in signers.get(checkpoint.issuer_id, ())


def _mismatch(
    checkpoint: Checkpoint, by_seq: Mapping[int, AuditEntry], count: int
) -> AuditProblem | None:
    """How the log fails to match an authentic checkpoint, if it does."""
    when = checkpoint.at.isoformat()
    if checkpoint.entries > count:
        missing = (
            f"entry {count + 1} was"
            if count + 1 == checkpoint.entries
            else f"entries {count + 1}-{checkpoint.entries} were"
        )
        return AuditProblem(
            checkpoint.entries,
            f"{missing} removed: the checkpoint of {when} signed for {checkpoint.entries} "
            f"entries, the log has {count}",
        )
    entry = by_seq.get(checkpoint.entries)
    if entry is None or entry.entry_hash != checkpoint.entry_hash:
        return AuditProblem(
            checkpoint.entries,
            f"entry {checkpoint.entries} is not the one the checkpoint of {when} signed: the "
            "log was rewritten up to there",
        )
    return None


def verify_audit(session: Session) -> tuple[int, list[AuditProblem]]:
    """``(entries, problems)`` of ``check_audit`` with the database's own checkpoints only."""
    report = check_audit(session)
    return report.entries, list(report.problems)


def check_audit(
    session: Session,
    *,
    checkpoint_file: CheckpointFile | None = None,
    signers: Mapping[str, Collection[str]] | None = None,
) -> AuditReport:
    """Check the hash chain, the head row and every checkpoint (from the database and from
    ``checkpoint_file``). ``signers`` maps each issuer id to the accounts allowed to sign its
    checkpoints; without it a checkpoint need only be signed by the account it names."""
    entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    problems = _chain_problems(entries)
    count = len(entries)
    head = session.get(AuditHead, 1)
    last_hash = entries[-1].entry_hash if entries else GENESIS
    if head is not None and (head.entries != count or head.entry_hash != last_hash):
        problems.append(
            AuditProblem(
                head.entries, f"the log's head records {head.entries} entries; the log has {count}"
            )
        )
    candidates = _stored_checkpoints(session)
    if checkpoint_file is not None:
        from_file, bad_lines = checkpoint_file.read()
        candidates += from_file
        problems += [
            AuditProblem(0, f"line {n} of {checkpoint_file.path} is not a checkpoint")
            for n in bad_lines
        ]
    unique = {c.key(): c for c in candidates}
    by_seq = {e.seq: e for e in entries}
    authentic: list[Checkpoint] = []
    for checkpoint in sorted(unique.values(), key=lambda c: (c.entries, c.at)):
        if not _authentic(checkpoint, signers):
            problems.append(
                AuditProblem(
                    checkpoint.entries,
                    f"the checkpoint of {checkpoint.at.isoformat()} is not signed by an account "
                    f"of {checkpoint.issuer_id}: it was forged or altered",
                )
            )
            continue
        authentic.append(checkpoint)
        if (mismatch := _mismatch(checkpoint, by_seq, count)) is not None:
            problems.append(mismatch)
    newest = max(authentic, key=lambda c: c.entries, default=None)
    covered = newest.entries if newest is not None and not problems else 0
    return AuditReport(
        entries=count,
        checkpoints=len(authentic),
        covered=covered,
        newest=newest,
        signers_checked=signers is not None,
        problems=tuple(problems),
    )
