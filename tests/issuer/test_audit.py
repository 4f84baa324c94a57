"""The audit log against someone who can write the database: an edited row, the last rows cut
off, every row deleted, a middle row deleted and the chain recomputed, a forged checkpoint. Each
is caught by the hash chain or by the signed checkpoints kept outside the database; and an entry
exists only if the change it records was committed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from eth_account import Account
from sqlalchemy import delete, select, update

from issuer.audit import AuditReport, check_audit, entry_hash
from issuer.checkpoints import Checkpoint, CheckpointFile
from issuer.pipeline import Pipeline
from issuer.store import AuditCheckpoint, AuditEntry, AuditHead
from ledger.chain import Chain
from ledger.codes import RevocationReason
from ledger.errors import NodeUnavailable
from ledger.registry import Registry
from tests.conftest import World
from tests.issuer.conftest import licences


@pytest.fixture
def history(pipeline: Pipeline) -> Pipeline:
    """Five entries, ISSUE ANCHOR ISSUE ANCHOR REVOKE, checkpointed after 2, 4 and 5."""
    pipeline.submit("ZJ-AMR", licences(3), actor="token:zj-amr:case")
    pipeline.run_once(force_batches=True)
    (last,) = pipeline.submit("ZJ-AMR", licences(1, start=3), actor="token:zj-amr:case")
    pipeline.run_once(force_batches=True)
    pipeline.revoke("ZJ-AMR", last.certificate_id or "", RevocationReason.SUPERSEDED, actor="cli")
    return pipeline


def _check(pipeline: Pipeline, world: World) -> AuditReport:
    assert pipeline.checkpoint_file is not None
    with pipeline.sessions() as session:
        return check_audit(
            session,
            checkpoint_file=pipeline.checkpoint_file,
            signers={"ZJ-AMR": {world.issuer.address}},
        )


def _messages(report: AuditReport) -> str:
    return " | ".join(p.message for p in report.problems)


def _rewrite(pipeline: Pipeline, keep: list[int]) -> None:
    """What a careful forger does: keep only entries ``keep``, renumber them, recompute every
    hash and link, fix the head, and delete the checkpoints in the database."""
    with pipeline.sessions() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        kept = [
            (r.at, r.actor, r.action, r.subject, dict(r.details)) for r in rows if r.seq in keep
        ]
        session.execute(delete(AuditEntry))
        session.execute(delete(AuditCheckpoint))
        prev = "0" * 64
        for seq, (at, actor, action, subject, details) in enumerate(kept, start=1):
            digest = entry_hash(
                seq, at=at, actor=actor, action=action, subject=subject, details=details,
                prev_hash=prev,
            )  # fmt: skip
            session.add(
                AuditEntry(
                    seq=seq, at=at, actor=actor, action=action, subject=subject,
                    details=details, prev_hash=prev, entry_hash=digest,
                )
            )  # fmt: skip
            prev = digest
        session.execute(
            update(AuditHead).where(AuditHead.id == 1).values(entries=len(kept), entry_hash=prev)
        )
        session.commit()


def test_an_untouched_log_is_intact_and_checkpointed(history: Pipeline, world: World) -> None:
    report = _check(history, world)
    assert report.intact, _messages(report)
    assert (report.entries, report.checkpoints, report.covered) == (5, 3, 5)
    assert report.newest is not None
    assert report.newest.signer == world.issuer.address
    with history.sessions() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions == ["ISSUE", "ANCHOR", "ISSUE", "ANCHOR", "REVOKE"]


def test_an_edited_row_is_caught(history: Pipeline, world: World) -> None:
    with history.sessions() as session:
        session.execute(
            update(AuditEntry).where(AuditEntry.seq == 3).values(actor="token:zj-amr:someone")
        )
        session.commit()
    report = _check(history, world)
    assert [p.seq for p in report.problems] == [3]
    assert "changed after it was written" in _messages(report)


def test_cutting_off_the_last_rows_is_caught(history: Pipeline, world: World) -> None:
    _rewrite(history, keep=[1, 2, 3])  # the newest anchor and the revocation disappear
    report = _check(history, world)
    assert not report.intact
    assert "entries 4-5 were removed" in _messages(report)


def test_wiping_the_log_is_caught(history: Pipeline, world: World) -> None:
    _rewrite(history, keep=[])
    report = _check(history, world)
    assert report.entries == 0
    assert "entries 1-5 were removed" in _messages(report)


def test_deleting_a_middle_row_and_recomputing_the_chain_is_caught(
    history: Pipeline, world: World
) -> None:
    _rewrite(history, keep=[1, 3, 4, 5])  # the first ANCHOR entry goes; the chain is rebuilt
    with history.sessions() as session:
        assert check_audit(session).intact  # the database alone no longer shows it
    report = _check(history, world)
    messages = _messages(report)
    assert "entry 2 is not the one the checkpoint" in messages
    assert "entry 4 is not the one the checkpoint" in messages
    assert "entry 5 was removed" in messages


def test_a_checkpoint_signed_with_another_key_is_refused(history: Pipeline, world: World) -> None:
    _rewrite(history, keep=[1, 3, 4, 5])
    with history.sessions() as session:
        head = session.get(AuditHead, 1)
        assert head is not None
        forged = Checkpoint.sign(Account.create(), "ZJ-AMR", head.entries, head.entry_hash)
    assert history.checkpoint_file is not None
    history.checkpoint_file.append(forged)
    report = _check(history, world)
    assert "is not signed by an account of ZJ-AMR" in _messages(report)
    assert report.covered == 0


def test_a_change_that_is_not_committed_leaves_no_entry(pipeline: Pipeline, world: World) -> None:
    (result,) = pipeline.submit("ZJ-AMR", licences(1))
    pipeline.run_once(force_batches=True)
    pipeline.registry = Registry(
        Chain.connect("http://127.0.0.1:9", timeout=0.5), world.registry.address
    )
    with pytest.raises(NodeUnavailable):
        pipeline.revoke("ZJ-AMR", result.certificate_id or "", RevocationReason.SUPERSEDED)
    report = _check(pipeline, world)
    assert report.intact
    assert report.entries == 2  # ISSUE, ANCHOR: no REVOKE without the revocation
    assert pipeline.certificate("ZJ-AMR", result.certificate_id or "")["status"] == "ANCHORED"


def test_concurrent_writers_get_one_unbroken_chain(pipeline: Pipeline, world: World) -> None:
    def submit(n: int) -> None:
        for k in range(4):
            pipeline.submit("ZJ-AMR", licences(1, start=100 * n + k), actor=f"writer-{n}")

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(submit, range(6)))
    report = _check(pipeline, world)
    assert report.intact, _messages(report)
    assert report.entries == 24


def test_a_checkpoint_file_with_garbage_is_reported(tmp_path: Path) -> None:
    file = CheckpointFile(tmp_path / "checkpoints.jsonl")
    file.append(Checkpoint.sign(Account.create(), "ZJ-AMR", 1, "ab" * 32))
    with file.path.open("a") as fh:
        fh.write("[" * 100_000 + "\n{}\n")
    found, bad = file.read()
    assert len(found) == 1
    assert found[0].signature_ok()
    assert bad == [2, 3]
