"""Failover as a province lives it: its own node dies in the middle of issuance and anchoring goes
on through another province's node; the verifier keeps answering from the node still up, and
says INDETERMINATE only once every node is down.

"Two nodes following one chain state" is one anvil chain behind two independent HTTP front doors
(``FaultyProxy``): anvil cannot peer, and two anvils fed the same transactions still mine blocks
of their own (other timestamps, other hashes), so they would not be one chain. What the issuer
and the verifier see is what they see of two consortium nodes: two URLs, one chain; stopping a
front door is that node being down. The own node dies the worst way: it forwards an anchor
transaction to the chain, then the reply is lost."""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app
from issuer.pipeline import Pipeline, Submission
from issuer.samples import department_id, sample_record
from issuer.site import DepartmentConfig, ProvinceConfig, Site, bootstrap_network
from issuer.store import Batch, open_store
from ledger.chain import Chain
from ledger.index import RegistryIndex
from ledger.node import AnvilNode, free_port
from ledger.registry import Registry
from tests.conftest import TEST_ONLY_SCRYPT_N
from tests.integration.proxy import FaultyProxy
from verifier.config import VerifierConfig, build_verifier
from verifier.result import Verdict

pytestmark = pytest.mark.anvil

PASSWORD = "failover password"
ISSUER = department_id("330000", "MB0000011")
BATCHES = 4


def test_own_node_dies_mid_issuance_and_anchoring_and_verifying_go_on(tmp_path: Path) -> None:
    home = tmp_path / "site"
    node = AnvilNode(tmp_path / "chain", port=free_port(), persist=False)
    node.start()
    own, other = FaultyProxy(node.rpc_url).start(), FaultyProxy(node.rpc_url).start()
    try:
        config = bootstrap_network(
            home,
            PASSWORD,
            Chain.connect([own.url, other.url]),
            [ProvinceConfig("ZJ", "浙江省", "https://zj.verify.example")],
            [DepartmentConfig(ISSUER, "浙江省市场监督管理局", "ZJ", ["BUSINESS_LICENCE"])],
            scrypt_n=TEST_ONLY_SCRYPT_N,
        )
        assert config.deployment.rpc_url == [own.url, other.url]  # saved in the list form
        site = Site(home, PASSWORD)
        store = f"sqlite:///{home / 'issuer.sqlite'}"
        pipeline = Pipeline(open_store(store), site.departments(), site.registry())
        # The own node takes the second anchor transaction, the reply is lost, and it is gone.
        sent_so_far = own.seen.get("eth_sendRawTransaction", 0)  # the set-up's transactions
        own.dies_on = ("eth_sendRawTransaction", sent_so_far + 2, True)
        until = (datetime.now(UTC) + timedelta(days=90)).date()
        numbers: list[str] = []
        for batch in range(BATCHES):
            submissions = [
                Submission(
                    f"f-{batch}-{n}",
                    "BUSINESS_LICENCE",
                    sample_record("BUSINESS_LICENCE", random.Random(batch * 10 + n)),
                    until,
                )
                for n in range(2)
            ]
            numbers += [r.certificate_id or "" for r in pipeline.submit(ISSUER, submissions)]
            pipeline.seal_pending()
            pipeline.close_batches(force=True)
            counts = pipeline.anchor_pending()
            assert (counts.anchored, counts.waiting, counts.failed) == (1, 0, 0), batch
        assert own.mode == "502"  # it did die, at the second batch

        with open_store(store)() as session:
            batches = session.scalars(select(Batch)).all()
        assert len(batches) == BATCHES
        assert {b.status for b in batches} == {"ANCHORED"}
        assert all(b.tx_hash for b in batches)  # even the one whose reply was lost
        index = RegistryIndex(
            ":memory:",
            registry_address=config.deployment.registry_address,
            start_block=config.deployment.deploy_block,
        )
        index.sync(Registry(Chain.connect(node.rpc_url), config.deployment.registry_address))
        assert index.anchor_count() == BATCHES  # every batch exactly once
        for b in batches:
            anchor = index.anchor_of(ISSUER, b.root)
            assert anchor is not None
            assert anchor.block_number == b.block_number

        own.stop()  # now for real: connection refused
        folder = home / "proofs" / ISSUER
        folder.mkdir(parents=True)
        for number in numbers:
            proof = pipeline.public_proof(ISSUER, number)
            (folder / f"{number}.json").write_text(json.dumps(proof))
        site.pki.export_roots(home / "roots.pem")
        settings = VerifierConfig(
            rpc_url=[own.url, other.url],
            registry_address=config.deployment.registry_address,
            deploy_block=config.deployment.deploy_block,
            trust_roots="roots.pem",
            proof_directories={"*": "proofs"},
            max_stale_seconds=1.0,
        )
        settings.save(home / "verifier.json")
        verifier = build_verifier(
            VerifierConfig.load(home / "verifier.json"), home / "verifier.json", region="ZJ"
        )
        pdf = pipeline.pdf(ISSUER, numbers[-1])
        assert verifier.verify_pdf(pdf).verdict is Verdict.VALID

        # A node that answers but is far behind (a fresh one, syncing from genesis: head 0) is
        # not read from, though listed first: it would not know the anchor.
        behind = AnvilNode(tmp_path / "behind", port=free_port(), persist=False)
        behind.start()
        try:
            lagging = build_verifier(
                replace(settings, rpc_url=[behind.rpc_url, other.url], index_dir=str(tmp_path)),
                home / "verifier.json",
                region="ZJ",
            )
            assert lagging.verify_pdf(pdf).verdict is Verdict.VALID
            # Alone, it is not read from either: could not check, never "not anchored".
            lone = build_verifier(
                replace(settings, rpc_url=behind.rpc_url, index_dir=str(tmp_path / "lone")),
                home / "verifier.json",
                region="ZJ",
            )
            assert "before the registry's deployment" in (lone.chain.health.last_error or "")
            assert lone.verify_pdf(pdf).verdict is Verdict.INDETERMINATE
        finally:
            behind.stop()
        assert verifier.chain.refresh(force=True)  # synced again, through the other node
        assert verifier.verify_pdf(pdf).verdict is Verdict.VALID

        # The command line takes the list too: --rpc repeated, with commas, ECERT_RPC_URL.
        env = {"ECERT_HOME": str(home)}
        for args, extra, code in (
            (["--rpc", own.url], {}, 2),  # the override is used: the dead node alone
            (["--rpc", own.url, "--rpc", other.url], {}, 0),
            (["--rpc", f"{own.url},{other.url}"], {}, 0),
            ([], {"ECERT_RPC_URL": own.url}, 2),
            ([], {"ECERT_RPC_URL": f"{own.url} {other.url}"}, 0),
        ):
            done = CliRunner().invoke(app, ["network", "matrix", *args], env={**env, **extra})
            assert done.exit_code == code, (args, extra, done.output)

        other.stop()  # every node down: could not check, once the data is too old
        assert not verifier.chain.refresh(force=True)
        time.sleep(1.1)
        report = verifier.verify_pdf(pdf)
        assert report.verdict is Verdict.INDETERMINATE, report.to_json("en")
    finally:
        own.stop()
        other.stop()
        node.stop()
