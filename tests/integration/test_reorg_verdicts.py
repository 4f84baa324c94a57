"""Verdicts across a reorganisation on a real anvil node: the chain is put back to a snapshot and
grows another history. An anchor that vanished is no longer VALID (INVALID ``NOT_ANCHORED``:
the node's chain, asked at its head, does not record the root), a revocation that vanished no
longer makes the certificate REVOKED; with ``confirmations`` an anchor too recent to be final is
INDETERMINATE (``ANCHOR_UNCONFIRMED``) until enough blocks are built on it."""

from __future__ import annotations

import json
import random
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

PASSWORD = "reorganisation password"
ISSUER = department_id("330000", "MB0000012")


def _issue(pipeline: Pipeline, home: Path, tag: str) -> str:
    until = (datetime.now(UTC) + timedelta(days=90)).date()
    record = sample_record("BUSINESS_LICENCE", random.Random(tag))
    (result,) = pipeline.submit(ISSUER, [Submission(tag, "BUSINESS_LICENCE", record, until)])
    number = result.certificate_id or ""
    pipeline.seal_pending()
    pipeline.close_batches(force=True)
    pipeline.anchor_pending()
    folder = home / "proofs" / ISSUER
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{number}.json").write_text(json.dumps(pipeline.public_proof(ISSUER, number)))
    return number


def _reasons(report: object) -> set[ReasonCode]:
    return {c.reason for c in report.failures()}  # type: ignore[attr-defined]


def test_verdicts_follow_the_chain_through_a_reorganisation(tmp_path: Path) -> None:
    home = tmp_path / "site"
    node = AnvilNode(tmp_path / "node", port=free_port())
    node.start()
    try:
        chain = Chain.connect(node.rpc_url)
        config = bootstrap_network(
            home,
            PASSWORD,
            chain,
            [ProvinceConfig("ZJ", "浙江省", "https://zj.verify.example")],
            [DepartmentConfig(ISSUER, "浙江省市场监督管理局", "ZJ", ["BUSINESS_LICENCE"])],
            scrypt_n=TEST_ONLY_SCRYPT_N,
        )
        site = Site(home, PASSWORD)
        pipeline = Pipeline(
            open_store(f"sqlite:///{home / 'issuer.sqlite'}"), site.departments(), site.registry()
        )
        kept = _issue(pipeline, home, "kept")
        site.pki.export_roots(home / "roots.pem")
        base = VerifierConfig(
            rpc_url=node.rpc_url,
            registry_address=config.deployment.registry_address,
            deploy_block=config.deployment.deploy_block,
            trust_roots="roots.pem",
            proof_directories={"*": "proofs"},
        )
        base.save(home / "verifier.json")
        verifier = build_verifier(base, home / "verifier.json", region="ZJ")
        assert verifier.verify_pdf(pipeline.pdf(ISSUER, kept)).verdict is Verdict.VALID

        snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        pipeline.revoke(ISSUER, kept, RevocationReason.KEY_COMPROMISE)
        lost = _issue(pipeline, home, "lost")
        verifier.chain.refresh(force=True)
        revoked = verifier.verify_pdf(pipeline.pdf(ISSUER, kept))
        assert (revoked.verdict, _reasons(revoked)) == (Verdict.INVALID, {ReasonCode.REVOKED})
        assert verifier.verify_pdf(pipeline.pdf(ISSUER, lost)).verdict is Verdict.VALID

        # The node drops both transactions' blocks and builds another, longer history.
        assert chain.w3.provider.make_request("evm_revert", [snapshot])["result"]  # type: ignore[arg-type]
        chain.w3.provider.make_request("anvil_mine", [5, 1])  # type: ignore[arg-type]
        verifier.chain.refresh(force=True)
        assert verifier.chain.health.reorganisations_total == 1
        assert verifier.verify_pdf(pipeline.pdf(ISSUER, kept)).verdict is Verdict.VALID
        vanished = verifier.verify_pdf(pipeline.pdf(ISSUER, lost))
        assert vanished.verdict is Verdict.INVALID
        assert _reasons(vanished) == {ReasonCode.NOT_ANCHORED}

        # Waiting for confirmations: an anchor too recent is neither VALID nor missing.
        pipeline.registry.chain.forget_nonces()
        waiting = build_verifier(
            replace(base, confirmations=3, index_dir=str(tmp_path / "waiting")),
            home / "verifier.json",
            region="ZJ",
        )
        recent = _issue(pipeline, home, "recent")
        early = waiting.verify_pdf(pipeline.pdf(ISSUER, recent))
        assert early.verdict is Verdict.INDETERMINATE
        assert _reasons(early) == {ReasonCode.ANCHOR_UNCONFIRMED}
        chain.w3.provider.make_request("anvil_mine", [3, 1])  # type: ignore[arg-type]
        waiting.chain.refresh(force=True)
        assert waiting.verify_pdf(pipeline.pdf(ISSUER, recent)).verdict is Verdict.VALID
    finally:
        node.stop()
