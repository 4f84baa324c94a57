"""Reads that do not trust one node: two anvil nodes that share history until one of them misses
a revocation. A verifier reading from one and requiring the other to confirm reports the
disagreement (INDETERMINATE, NODES_DISAGREE) instead of a verdict from either alone; with both
nodes agreeing it answers normally."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from issuer.pipeline import Pipeline, Submission
from issuer.samples import department_id, sample_record
from issuer.site import DepartmentConfig, ProvinceConfig, Site, bootstrap_network
from issuer.store import open_store
from ledger.chain import Chain
from ledger.codes import RevocationReason
from ledger.node import AnvilNode, free_port
from tests.conftest import TEST_ONLY_SCRYPT_N
from verifier.config import VerifierConfig, build_verifier
from verifier.reasons import ReasonCode
from verifier.result import Verdict

pytestmark = pytest.mark.anvil

PASSWORD = "quorum reads password"
ISSUER = department_id("330000", "MB0000011")


def test_nodes_that_disagree_are_reported_not_resolved(tmp_path: Path) -> None:
    home = tmp_path / "site"
    a = AnvilNode(tmp_path / "node-a", port=free_port())
    b = AnvilNode(tmp_path / "node-b", port=free_port())
    a.start()
    try:
        config = bootstrap_network(
            home,
            PASSWORD,
            Chain.connect(a.rpc_url),
            [ProvinceConfig("ZJ", "浙江省", "https://zj.verify.example")],
            [DepartmentConfig(ISSUER, "浙江省市场监督管理局", "ZJ", ["BUSINESS_LICENCE"])],
            scrypt_n=TEST_ONLY_SCRYPT_N,
        )
        site = Site(home, PASSWORD)
        pipeline = Pipeline(
            open_store(f"sqlite:///{home / 'issuer.sqlite'}"), site.departments(), site.registry()
        )
        until = (datetime.now(UTC) + timedelta(days=90)).date()
        numbers = [
            r.certificate_id or ""
            for r in pipeline.submit(
                ISSUER,
                [
                    Submission(
                        f"q-{n}",
                        "BUSINESS_LICENCE",
                        sample_record("BUSINESS_LICENCE", random.Random(n)),
                        until,
                    )
                    for n in range(2)
                ],
            )
        ]
        pipeline.seal_pending()
        pipeline.close_batches(force=True)
        pipeline.anchor_pending()
        folder = home / "proofs" / ISSUER
        folder.mkdir(parents=True)
        for number in numbers:
            (folder / f"{number}.json").write_text(
                json.dumps(pipeline.public_proof(ISSUER, number))
            )
        site.pki.export_roots(home / "roots.pem")

        # Node B starts from A's state: the same history so far.
        a.stop()
        shutil.copytree(tmp_path / "node-a", tmp_path / "node-b", dirs_exist_ok=True)
        (tmp_path / "node-b" / "anvil.pid").unlink(missing_ok=True)
        a.start()
        b.start()
        base = VerifierConfig(
            rpc_url=a.rpc_url,
            registry_address=config.deployment.registry_address,
            deploy_block=config.deployment.deploy_block,
            trust_roots="roots.pem",
            proof_directories={"*": "proofs"},
            witness_rpc_urls=[b.rpc_url],
            max_lag_blocks=0,
        )
        base.save(home / "verifier.json")
        agreeing = build_verifier(
            replace(base, index_dir=str(tmp_path / "agree")), home / "verifier.json", region="ZJ"
        )
        assert agreeing.chain.disagreement is None
        pdf = pipeline.pdf(ISSUER, numbers[1])
        assert agreeing.verify_pdf(pdf).verdict is Verdict.VALID

        # The revocation reaches A only.
        pipeline.revoke(ISSUER, numbers[1], RevocationReason.KEY_COMPROMISE)
        for primary, witness, name in ((a, b, "from-a"), (b, a, "from-b")):
            verifier = build_verifier(
                replace(
                    base,
                    rpc_url=primary.rpc_url,
                    witness_rpc_urls=[witness.rpc_url],
                    index_dir=str(tmp_path / name),
                ),
                home / "verifier.json",
                region="ZJ",
            )
            assert verifier.chain.disagreement is not None
            assert witness.rpc_url in verifier.chain.disagreement
            for number in numbers:  # neither the revoked one nor the other gets a verdict
                report = verifier.verify_pdf(pipeline.pdf(ISSUER, number))
                assert report.verdict is Verdict.INDETERMINATE, (name, report.to_json("en"))
                assert ReasonCode.NODES_DISAGREE in {c.reason for c in report.failures()}
                assert report.freshness.disagreement

        # With a quorum of one (the primary alone), A's view answers: the revocation shows.
        alone = build_verifier(
            replace(base, read_quorum=1, index_dir=str(tmp_path / "alone")),
            home / "verifier.json",
            region="ZJ",
        )
        revoked = alone.verify_pdf(pdf)
        assert revoked.verdict is Verdict.INVALID
        assert ReasonCode.REVOKED in {c.reason for c in revoked.failures()}
    finally:
        b.stop()
        a.stop()
