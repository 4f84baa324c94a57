"""The issuing pipeline on the in-process chain: durable submit, seal, batch, anchor, proofs,
revocation, the audit log, and waiting out an unreachable node."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from issuer.audit import verify_audit
from issuer.department import Department
from issuer.pipeline import Pipeline, PipelineError, Submission
from issuer.seal import Sealer
from issuer.store import AuditEntry, Batch, open_store
from ledger.chain import Chain
from ledger.codes import RevocationReason
from ledger.merkle import verify_proof
from ledger.registry import Registry
from tests.conftest import World
from tests.issuer.conftest import LICENCE, SamplePki


def _department(world: World, pki: SamplePki) -> Department:
    return Department(
        issuer_id="ZJ-AMR",
        name="浙江省市场监督管理局",
        province_code="ZJ",
        province_name="浙江省",
        account=world.issuer,
        sealer=Sealer(pki.seal, [pki.zj.cert, pki.root.cert], location="浙江省"),
        verifier_base="https://zj.ecert.example",
    )


def _licences(n: int, start: int = 0) -> list[Submission]:
    return [
        Submission(
            f"case-{i}",
            "BUSINESS_LICENCE",
            LICENCE,
            valid_until=datetime.now(UTC).date() + timedelta(days=365),
        )
        for i in range(start, start + n)
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage test runs on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'issuer.sqlite'}"
    base: str = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine, text  # noqa: PLC0415

    name = f"t_{tmp_path.name.lower().replace('-', '_')}"[:60]
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def pipeline(world: World, pki: SamplePki, store_url: str) -> Iterator[Pipeline]:
    sessions = open_store(store_url)
    yield Pipeline(
        sessions,
        [_department(world, pki)],
        world.registry,
        batch_size=8,
        batch_window=timedelta(seconds=0),
    )
    sessions.kw["bind"].dispose()


def test_records_flow_to_anchored_with_verifiable_proofs(pipeline: Pipeline, world: World) -> None:
    results = pipeline.submit("ZJ-AMR", _licences(20))
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
    results = pipeline.submit("ZJ-AMR", [*_licences(2), bad, expired])
    assert [r.accepted for r in results] == [True, True, False, False]
    assert results[2].errors[0].field == "uscc"
    assert results[3].errors[0].field == "valid_until"
    again = pipeline.submit("ZJ-AMR", _licences(1))[0]
    assert again.duplicate
    assert again.certificate_id == results[0].certificate_id
    with pytest.raises(PipelineError):
        pipeline.submit("GD-HOSP", _licences(1))


def test_node_down_then_back_anchors_everything_once(
    world: World, pki: SamplePki, store_url: str
) -> None:
    sessions = open_store(store_url)
    request_cleanup = sessions.kw["bind"].dispose
    dead = Registry(Chain.connect("http://127.0.0.1:9", timeout=0.5), world.registry.address)
    offline = Pipeline(
        sessions, [_department(world, pki)], dead, batch_size=4, batch_window=timedelta(seconds=0)
    )
    offline.submit("ZJ-AMR", _licences(10))
    counts = offline.run_once(force_batches=True)
    assert counts.sealed == 10  # issuing goes on without the chain
    assert counts.anchored_batches == 0
    assert counts.waiting_batches == 3
    with sessions() as session:
        batches = session.scalars(select(Batch)).all()
        assert all(b.attempts == 1 and "NodeUnavailable" in (b.last_error or "") for b in batches)
        session.execute(update(Batch).values(next_attempt_at=datetime.now(UTC) - timedelta(1)))
        session.commit()
    online = Pipeline(sessions, [_department(world, pki)], world.registry, batch_size=4)
    assert online.run_once().anchored_certificates == 10
    assert online.run_once().anchored_batches == 0  # nothing anchored twice
    request_cleanup()


def test_a_crash_after_sending_does_not_anchor_twice(pipeline: Pipeline, world: World) -> None:
    pipeline.submit("ZJ-AMR", _licences(8))
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
    (result,) = pipeline.submit("ZJ-AMR", _licences(1), actor="token:zj-clerk")
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
        assert (count, problems) == (2, [])
        entry = session.get(AuditEntry, 1)
        assert entry is not None
        assert entry.actor == "token:zj-clerk"
        entry.subject = "tampered"
        session.commit()
        _, problems = verify_audit(session)
        assert [p.seq for p in problems] == [1]
