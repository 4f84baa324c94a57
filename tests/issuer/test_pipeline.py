"""The issuing pipeline on the in-process chain: durable submit, seal, batch, anchor, proofs,
revocation, the audit log, waiting out an unreachable node, and failures that stay where they
happen (one bad record, a refused batch, a type the registry does not allow)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from issuer.audit import verify_audit
from issuer.pipeline import Pipeline, PipelineError, Submission
from issuer.store import AuditEntry, Batch, Certificate, open_store
from ledger.chain import Chain
from ledger.codes import RevocationReason
from ledger.merkle import verify_proof
from ledger.registry import Registry
from tests.conftest import World
from tests.issuer.conftest import LICENCE, SamplePki, department, licences


def test_records_flow_to_anchored_with_verifiable_proofs(pipeline: Pipeline, world: World) -> None:
    results = pipeline.submit("ZJ-AMR", licences(20))
    assert all(r.accepted and r.status == "RECEIVED" for r in results)
    counts = pipeline.run_once(force_batches=True)
    assert (counts.sealed, counts.anchored_certificates) == (20, 20)
    assert counts.anchored_batches == 3  # 8 + 8 + 4
    for result in results:
        assert result.certificate_id is not None
        view = pipeline.certificate("ZJ-AMR", result.certificate_id)
        assert view["status"] == "ANCHORED"
        assert [p["status"] for p in view["progress"]] == [
            "RECEIVED",
            "SEALED",
            "BATCHED",
            "ANCHORED",
        ]
        proof = view["proof"]
        root, leaf = bytes.fromhex(proof["root"]), bytes.fromhex(proof["leaf"])
        siblings = [bytes.fromhex(s) for s in proof["siblings"]]
        assert verify_proof(root, leaf, siblings)
        assert world.registry.verify_inclusion(root, leaf, siblings)
        anchor = world.registry.anchor_of("ZJ-AMR", root)
        assert anchor is not None
        assert anchor.issuer_id == "ZJ-AMR"
    pdf = pipeline.pdf("ZJ-AMR", results[0].certificate_id or "")
    assert pdf.startswith(b"%PDF")
    with pipeline.sessions() as session:
        from issuer.store import Certificate  # noqa: PLC0415

        cert = session.scalars(
            select(Certificate).where(Certificate.certificate_id == results[0].certificate_id)
        ).one()
        assert cert.document_digest == hashlib.sha256(pdf).digest()


def test_bad_records_are_named_and_the_rest_go_through(pipeline: Pipeline) -> None:
    bad = Submission("case-bad", "BUSINESS_LICENCE", {**LICENCE, "uscc": "123"})
    expired = Submission("case-old", "BUSINESS_LICENCE", LICENCE, valid_until=date(2020, 1, 1))
    results = pipeline.submit("ZJ-AMR", [*licences(2), bad, expired])
    assert [r.accepted for r in results] == [True, True, False, False]
    assert results[2].errors[0].field == "uscc"
    assert results[3].errors[0].field == "valid_until"
    again = pipeline.submit("ZJ-AMR", licences(1))[0]
    assert again.duplicate
    assert again.certificate_id == results[0].certificate_id
    with pytest.raises(PipelineError):
        pipeline.submit("GD-HOSP", licences(1))


def test_node_down_then_back_anchors_everything_once(
    world: World, pki: SamplePki, store_url: str
) -> None:
    sessions = open_store(store_url)
    request_cleanup = sessions.kw["bind"].dispose
    dead = Registry(Chain.connect("http://127.0.0.1:9", timeout=0.5), world.registry.address)
    offline = Pipeline(
        sessions, [department(world, pki)], dead, batch_size=4, batch_window=timedelta(seconds=0)
    )
    offline.submit("ZJ-AMR", licences(10))
    counts = offline.run_once(force_batches=True)
    assert counts.sealed == 10  # issuing goes on without the chain
    assert counts.anchored_batches == 0
    assert counts.waiting_batches == 3
    with sessions() as session:
        batches = session.scalars(select(Batch)).all()
        assert all(b.attempts == 1 and "NodeUnavailable" in (b.last_error or "") for b in batches)
        session.execute(update(Batch).values(next_attempt_at=datetime.now(UTC) - timedelta(1)))
        session.commit()
    online = Pipeline(sessions, [department(world, pki)], world.registry, batch_size=4)
    assert online.run_once().anchored_certificates == 10
    assert online.run_once().anchored_batches == 0  # nothing anchored twice
    request_cleanup()


def test_a_crash_after_sending_does_not_anchor_twice(pipeline: Pipeline, world: World) -> None:
    pipeline.submit("ZJ-AMR", licences(8))
    pipeline.seal_pending()
    pipeline.close_batches(force=True)
    with pipeline.sessions() as session:
        batch = session.scalars(select(Batch)).one()
    # The transaction went out, then the process died before recording it.
    world.registry.anchor(world.issuer, batch.root, batch.leaf_count, "BUSINESS_LICENCE")
    block_before = world.chain.block_number()
    assert pipeline.anchor_pending()[:2] == (1, 8)
    assert world.chain.block_number() == block_before  # recognised, not re-sent


def test_revocation_and_the_audit_log(pipeline: Pipeline, world: World) -> None:
    (result,) = pipeline.submit("ZJ-AMR", licences(1), actor="token:zj-clerk")
    with pytest.raises(PipelineError, match="not anchored"):
        pipeline.revoke("ZJ-AMR", result.certificate_id or "", RevocationReason.SUPERSEDED)
    pipeline.run_once(force_batches=True)
    pipeline.revoke(
        "ZJ-AMR", result.certificate_id or "", RevocationReason.SUPERSEDED, actor="token:zj-clerk"
    )
    view = pipeline.certificate("ZJ-AMR", result.certificate_id or "")
    assert view["status"] == "REVOKED"
    proof = view["proof"]
    revocation = world.registry.certificate_revocation(
        "ZJ-AMR", bytes.fromhex(proof["root"]), bytes.fromhex(proof["leaf"])
    )
    assert revocation is not None
    assert revocation.reason is RevocationReason.SUPERSEDED
    with pipeline.sessions() as session:
        count, problems = verify_audit(session)
        assert (count, problems) == (3, [])
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
        assert actions == ["ISSUE", "ANCHOR", "REVOKE"]
        entry = session.get(AuditEntry, 1)
        assert entry is not None
        assert entry.actor == "token:zj-clerk"
        entry.subject = "tampered"
        session.commit()
        _, problems = verify_audit(session)
        assert [p.seq for p in problems] == [1]


def test_one_poisoned_record_among_100_fails_alone(
    world: World, pki: SamplePki, tmp_path: Path
) -> None:
    sessions = open_store(f"sqlite:///{tmp_path / 'issuer.sqlite'}")
    pipeline = Pipeline(
        sessions, [department(world, pki)], world.registry, batch_size=32, permit_ttl=timedelta(0)
    )
    results = pipeline.submit("ZJ-AMR", licences(100))
    poisoned = results[37].certificate_id or ""
    with sessions() as session:  # a stored record damaged after it was accepted
        session.execute(
            update(Certificate)
            .where(Certificate.certificate_id == poisoned)
            .values(claims_secret=b"\x00" * 5)
        )
        session.commit()
    counts = pipeline.run_once(force_batches=True)
    assert (counts.sealed, counts.failed_certificates) == (100, 1)
    assert (counts.anchored_certificates, counts.anchored_batches) == (99, 4)  # 32+32+32+3
    view = pipeline.certificate("ZJ-AMR", poisoned)
    assert view["status"] == "FAILED"
    assert "claims secret must be 32 bytes" in view["failure_reason"]
    assert [p["status"] for p in view["progress"]] == ["RECEIVED", "FAILED"]
    statuses = [pipeline.certificate("ZJ-AMR", r.certificate_id or "")["status"] for r in results]
    assert statuses.count("ANCHORED") == 99
    again = pipeline.run_once(force_batches=True)  # nothing is retried, nothing is redone
    assert (again.sealed, again.batched, again.anchored_batches) == (0, 0, 0)
    with sessions() as session:
        failed = session.scalars(select(AuditEntry).where(AuditEntry.action == "SEAL_FAILED")).one()
        assert failed.details["certificates"] == [poisoned]
    sessions.kw["bind"].dispose()


def test_a_suspended_issuers_batch_ends_failed_and_is_not_retried(
    pipeline: Pipeline, world: World
) -> None:
    results = pipeline.submit("ZJ-AMR", licences(3))
    pipeline.seal_pending()
    pipeline.close_batches(force=True)
    world.registry.suspend_issuer(world.zj, "ZJ-AMR")
    block = world.chain.block_number()
    assert pipeline.anchor_pending() == (0, 0, 0, 1)
    with pipeline.sessions() as session:
        batch = session.scalars(select(Batch)).one()
        assert batch.status == "FAILED"
        assert "suspended" in (batch.last_error or "")
        assert "CertificateRegistryIssuerNotActive" in (batch.last_error or "")
    for result in results:
        view = pipeline.certificate("ZJ-AMR", result.certificate_id or "")
        assert view["status"] == "FAILED"
        assert view["failure_reason"].startswith(f"batch {batch.id}: the registry lists the issuer")
    later = datetime.now(UTC) + timedelta(hours=1)  # long past any backoff
    assert pipeline.anchor_pending(now=later) == (0, 0, 0, 0)
    assert world.chain.block_number() == block  # not one more transaction
    with pytest.raises(PipelineError, match="suspended"):
        pipeline.submit("ZJ-AMR", licences(1, start=10))


def test_submit_refuses_a_type_the_registry_no_longer_allows(
    pipeline: Pipeline, world: World
) -> None:
    world.registry.set_issuer_cert_type(world.zj, "ZJ-AMR", "BUSINESS_LICENCE", False)
    (result,) = pipeline.submit("ZJ-AMR", licences(1))
    assert not result.accepted
    assert [(e.field, e.message) for e in result.errors] == [
        ("cert_type", "the registry does not allow ZJ-AMR to issue BUSINESS_LICENCE")
    ]


def test_one_process_at_a_time_works_a_store(world: World, pki: SamplePki, store_url: str) -> None:
    first = Pipeline(open_store(store_url), [department(world, pki)], world.registry)
    second = Pipeline(open_store(store_url), [department(world, pki)], world.registry)
    second.submit("ZJ-AMR", licences(2))
    with first.work_lock.held() as mine:
        assert mine
        counts = second.run_once(force_batches=True)
        assert counts.busy
        assert second.seal_pending() == 0
        assert first.run_once(force_batches=True).anchored_certificates == 2  # re-entrant
    assert not second.run_once().busy
    for p in (first, second):
        p.sessions.kw["bind"].dispose()
