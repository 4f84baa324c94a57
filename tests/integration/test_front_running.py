"""Front-running (issue 12, part 7) on a real anvil node, through the issuer pipeline: another
department allowed the same type copies the root of the victim's pending anchor and gets it
mined first. Anchors are keyed by (issuer, root), so the victim's batch still anchors as its
own, its certificates verify VALID, and the copy — even revoked — changes nothing for them;
the victim's own revocation still does."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from issuer.pipeline import Pipeline, Submission
from issuer.samples import department_id, sample_record
from issuer.site import (
    DepartmentConfig,
    ProvinceConfig,
    Site,
    authority_key,
    bootstrap_network,
    department_key,
)
from issuer.store import Batch, open_store
from ledger.chain import Chain
from ledger.codes import RevocationReason
from ledger.node import AnvilNode, free_port
from verifier.config import VerifierConfig, build_verifier
from verifier.reasons import ReasonCode
from verifier.result import Status, Verdict

pytestmark = pytest.mark.anvil

PASSWORD = "front-running password"
VICTIM = department_id("330000", "MB0000011")
COPIER = department_id("330100", "MB0000027")
LICENCE = "BUSINESS_LICENCE"


def test_a_copied_root_mined_first_neither_blocks_nor_invalidates(tmp_path: Path) -> None:
    node = AnvilNode(tmp_path / "chain", port=free_port())
    node.start()
    try:
        config = bootstrap_network(
            tmp_path,
            PASSWORD,
            Chain.connect(node.rpc_url),
            [ProvinceConfig("ZJ", "浙江省", "https://zj.verify.ecert.example")],
            [
                DepartmentConfig(VICTIM, "浙江省市场监督管理局", "ZJ", [LICENCE]),
                DepartmentConfig(COPIER, "杭州市市场监督管理局", "ZJ", [LICENCE]),
            ],
        )
        site = Site(tmp_path, PASSWORD)
        registry = site.registry()
        pipeline = Pipeline(
            open_store(f"sqlite:///{tmp_path / 'issuer.sqlite'}"),
            [site.department(VICTIM)],
            registry,
        )
        until = (datetime.now(UTC) + timedelta(days=365)).date()
        submitted = pipeline.submit(
            VICTIM,
            [
                Submission(f"fr-{n}", LICENCE, sample_record(LICENCE, random.Random(n)), until)
                for n in range(3)
            ],
        )
        numbers = [r.certificate_id or "" for r in submitted]
        pipeline.seal_pending()
        pipeline.close_batches(force=True)
        with pipeline.sessions() as session:
            batch = session.scalars(select(Batch)).one()
        root, leaf_count = batch.root, batch.leaf_count

        # The copier read the victim's anchor transaction from the pool; its copy is mined first.
        copy = registry.anchor(site.keys.load(department_key(COPIER)), root, leaf_count, LICENCE)
        assert registry.anchor_of(VICTIM, root) is None

        assert pipeline.anchor_pending() == (1, 3, 0, 0)  # not blocked, waiting or failed
        assert {pipeline.certificate(VICTIM, n)["status"] for n in numbers} == {"ANCHORED"}
        ours, theirs = registry.anchor_of(VICTIM, root), registry.anchor_of(COPIER, root)
        assert ours is not None
        assert theirs is not None
        assert (ours.issuer_id, ours.leaf_count) == (VICTIM, 3)
        assert (theirs.issuer_id, theirs.block_number) == (COPIER, copy.block_number)
        assert theirs.block_number < ours.block_number

        # The copier's province withdraws the copy: that revocation is the copy's alone.
        zj = site.keys.load(authority_key("ZJ"))
        registry.revoke_root(zj, COPIER, root, RevocationReason.ISSUED_IN_ERROR)

        proofs = tmp_path / "proofs" / VICTIM
        proofs.mkdir(parents=True)
        for number in numbers:
            (proofs / f"{number}.json").write_text(
                json.dumps(pipeline.public_proof(VICTIM, number))
            )
        site.pki.export_roots(tmp_path / "roots.pem")
        VerifierConfig(
            rpc_url=node.rpc_url,
            registry_address=config.deployment.registry_address,
            deploy_block=config.deployment.deploy_block,
            trust_roots="roots.pem",
            proof_directories={"*": "proofs"},
        ).save(tmp_path / "verifier.json")
        verifier = build_verifier(
            VerifierConfig.load(tmp_path / "verifier.json"), tmp_path / "verifier.json", region="ZJ"
        )
        assert verifier.chain.refresh(force=True)
        assert verifier.chain.index.anchor_count() == 2  # both anchors are on record
        for number in numbers:
            report = verifier.verify_qr_text(str(pipeline.certificate(VICTIM, number)["qr"]))
            assert report.verdict is Verdict.VALID, report.failures()
        pdf_report = verifier.verify_pdf(pipeline.pdf(VICTIM, numbers[0]))
        assert pdf_report.verdict is Verdict.VALID, pdf_report.failures()

        # The victim's own batch revocation is still the victim's to make, and it counts.
        registry.revoke_root(zj, VICTIM, root, RevocationReason.SUPERSEDED)
        assert verifier.chain.refresh(force=True)
        revoked = verifier.verify_qr_text(str(pipeline.certificate(VICTIM, numbers[1])["qr"]))
        assert revoked.verdict is Verdict.INVALID
        assert [(c.status, c.reason) for c in revoked.failures()] == [
            (Status.INVALID, ReasonCode.BATCH_REVOKED)
        ]
    finally:
        node.stop()
