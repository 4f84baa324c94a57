"""A small consortium on a real anvil node with issued, revoked and never-anchored
certificates, and a verifier configuration for it; shared by the verifier tests. Departments
have SM2 seals too (OFD), but the pipeline issues PDFs alone unless asked (``issue_one``'s
``formats``), so the PDF-only (version-2) certificates stay the common case."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from issuer.formats import PDF_ONLY, Format
from issuer.pipeline import Pipeline, Submission
from issuer.samples import department_id, sample_record
from issuer.site import DepartmentConfig, ProvinceConfig, Site, bootstrap_network
from issuer.store import open_store
from ledger.chain import Chain
from ledger.codes import RevocationReason
from ledger.node import AnvilNode, free_port
from tests.conftest import TEST_ONLY_SCRYPT_N
from tests.integration.servers import ServiceProcess
from verifier.config import VerifierConfig, build_verifier
from verifier.engine import Verifier

PASSWORD = "verifier test password"
ZJ_MARKET = department_id("330000", "MB0000011")
GD_HOSPITAL = department_id("440000", "MB0000043")


@dataclass
class Network:
    home: Path
    node: AnvilNode
    site: Site
    pipeline: Pipeline
    config_path: Path
    good: str
    revoked: str
    suspended_cert: str

    def pdf(self, certificate_id: str, issuer_id: str = ZJ_MARKET) -> bytes:
        return self.pipeline.pdf(issuer_id, certificate_id)

    def issue_one(
        self,
        reference: str,
        *,
        days: int = 30,
        formats: tuple[Format, ...] | None = None,
        holder_key: str | None = None,
    ) -> str:
        """One more business licence, sealed, anchored, and its proof in the folder."""
        until = (datetime.now(UTC) + timedelta(days=days)).date()
        record = sample_record("BUSINESS_LICENCE", random.Random(reference))
        (result,) = self.pipeline.submit(
            ZJ_MARKET,
            [Submission(reference, "BUSINESS_LICENCE", record, until, holder_key)],
            formats=formats,
        )
        number = result.certificate_id or ""
        self.pipeline.seal_pending()
        self.pipeline.close_batches(force=True)
        # A transient failure (a node slow under load) makes the batch wait out its backoff:
        # try again until it is anchored, as the pipeline's worker would.
        deadline = time.monotonic() + 60
        while self.pipeline.anchor_pending().anchored == 0:
            if self.pipeline.certificate(ZJ_MARKET, number)["status"] == "ANCHORED":
                break
            assert time.monotonic() < deadline, f"{number} not anchored within 60 s"
            time.sleep(0.5)
        folder = self.home / "proofs" / ZJ_MARKET
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{number}.json").write_text(
            json.dumps(self.pipeline.public_proof(ZJ_MARKET, number))
        )
        return number

    def verifier(self, region: str = "ZJ", **changes: object) -> Verifier:
        config = VerifierConfig.load(self.config_path)
        if changes:
            config = replace(config, **changes)  # type: ignore[arg-type]
        return build_verifier(config, self.config_path, region=region)


def _licence(reference: str, seed: int) -> Submission:
    until = (datetime.now(UTC) + timedelta(days=365)).date()
    return Submission(
        reference, "BUSINESS_LICENCE", sample_record("BUSINESS_LICENCE", random.Random(seed)), until
    )


@pytest.fixture(scope="package")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    home = tmp_path_factory.mktemp("verify")
    node = AnvilNode(home / "chain", port=free_port())
    node.start()
    try:
        chain = Chain.connect(node.rpc_url)
        config = bootstrap_network(
            home,
            PASSWORD,
            chain,
            [
                ProvinceConfig("ZJ", "浙江省", "https://zj.verify.ecert.example"),
                ProvinceConfig("GD", "广东省", "https://gd.verify.ecert.example"),
            ],
            [
                DepartmentConfig(ZJ_MARKET, "浙江省市场监督管理局", "ZJ", ["BUSINESS_LICENCE"]),
                DepartmentConfig(GD_HOSPITAL, "广东省示范妇幼保健院", "GD", ["BIRTH_MEDICAL"]),
            ],
            scrypt_n=TEST_ONLY_SCRYPT_N,
            sm2_seals=True,
        )
        site = Site(home, PASSWORD)
        pipeline = Pipeline(
            open_store(f"sqlite:///{home / 'issuer.sqlite'}"),
            site.departments(),
            site.registry(),
            batch_size=64,
            formats=PDF_ONLY,
        )
        good, revoked = (
            r.certificate_id or ""
            for r in pipeline.submit(ZJ_MARKET, [_licence("good", 1), _licence("revoked", 2)])
        )
        (birth,) = pipeline.submit(
            GD_HOSPITAL,
            [
                Submission(
                    "birth", "BIRTH_MEDICAL", sample_record("BIRTH_MEDICAL", random.Random(4), "GD")
                )
            ],
        )
        pipeline.seal_pending()
        # The hospital is suspended before its batch is anchored: the anchor is refused.
        site.registry().suspend_issuer(site.keys.load("province-gd"), GD_HOSPITAL)
        pipeline.close_batches(force=True)
        pipeline.anchor_pending()
        pipeline.revoke(ZJ_MARKET, revoked, RevocationReason.KEY_COMPROMISE)
        proofs = home / "proofs"
        for issuer_id, number in ((ZJ_MARKET, good), (ZJ_MARKET, revoked)):
            (proofs / issuer_id).mkdir(parents=True, exist_ok=True)
            (proofs / issuer_id / f"{number}.json").write_text(
                json.dumps(pipeline.public_proof(issuer_id, number))
            )
        site.pki.export_roots(home / "roots.pem")
        site.sm2.export_roots(home / "sm2-roots.pem")
        seal, key, ca = site.pki.issue_verifier_seal("ZJ", "浙江省")
        VerifierConfig(
            rpc_url=node.rpc_url,
            registry_address=config.deployment.registry_address,
            deploy_block=config.deployment.deploy_block,
            trust_roots="roots.pem",
            sm2_trust_roots="sm2-roots.pem",
            proof_directories={"*": "proofs"},
            report_seals={
                "ZJ": {"certificate": str(seal), "key": str(key), "chain": [str(ca)]},
            },
            public_urls={"ZJ": "http://127.0.0.1:8800"},
        ).save(home / "verifier.json")
        yield Network(
            home,
            node,
            site,
            pipeline,
            home / "verifier.json",
            good,
            revoked,
            birth.certificate_id or "",
        )
    finally:
        node.stop()


@pytest.fixture(scope="package")
def service(network: Network, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """``ecert serve verifier`` for ZJ as its own process on 127.0.0.1, with two worker
    processes (as deployed for load) sharing one registry index."""
    log = tmp_path_factory.mktemp("svc") / "verifier.log"
    server = ServiceProcess(
        "verifier",
        ["--region", "ZJ", "--config", str(network.config_path), "--workers", "2"],
        {"ECERT_HOME": str(network.home), "ECERT_KEY_PASSWORD": PASSWORD},
        log,
    )
    server.start()
    yield server
    server.stop()
