"""A department's site as it runs: a real anvil node, a consortium with two departments, their
tokens, ``ecert serve issuer`` and ``ecert serve verifier`` as their own processes on 127.0.0.1
sharing one ``$ECERT_HOME`` (the verifier reads the proof files the issuer writes there).
Package-scoped: the API, console and browser tests share one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from issuer.samples import department_id
from issuer.site import DepartmentConfig, ProvinceConfig, Site, bootstrap_network
from issuer.store import open_store
from issuer.tokens import create_token
from ledger.chain import Chain
from ledger.node import AnvilNode, free_port
from tests.conftest import TEST_ONLY_SCRYPT_N
from tests.integration.servers import ServiceProcess
from verifier.config import VerifierConfig

PASSWORD = "department site test password"
ZJ_MARKET = department_id("330000", "MB0000011")
GD_HOSPITAL = department_id("440000", "MB0000043")


@dataclass
class DepartmentSite:
    home: Path
    node: AnvilNode
    db_url: str
    tokens: dict[str, str]
    issuer: ServiceProcess
    verifier: ServiceProcess

    def env(self) -> dict[str, str]:
        return {
            "ECERT_HOME": str(self.home),
            "ECERT_KEY_PASSWORD": PASSWORD,
            "ECERT_ISSUER_DB": self.db_url,
        }


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DepartmentSite]:
    home = tmp_path_factory.mktemp("department")
    node = AnvilNode(home / "chain", port=free_port())
    node.start()
    db_url = f"sqlite:///{home / 'issuer.sqlite'}"
    env = {"ECERT_HOME": str(home), "ECERT_KEY_PASSWORD": PASSWORD, "ECERT_ISSUER_DB": db_url}
    verifier = ServiceProcess(
        "verifier", ["--region", "ZJ", "--config", str(home / "verifier.json")], env,
        home / "verifier.log",
    )  # fmt: skip
    issuer = ServiceProcess(
        "issuer",
        ["--batch-size", "256", "--batch-window", "0.3", "--max-backoff", "1", "--workers", "2"],
        env,
        home / "issuer.log",
    )
    try:
        chain = Chain.connect(node.rpc_url)
        config = bootstrap_network(
            home,
            PASSWORD,
            chain,
            [
                ProvinceConfig("ZJ", "浙江省", verifier.url),  # its QR codes open this verifier
                ProvinceConfig("GD", "广东省", "https://gd.verify.ecert.example"),
            ],
            [
                DepartmentConfig(
                    ZJ_MARKET, "浙江省市场监督管理局", "ZJ", ["BUSINESS_LICENCE", "REAL_ESTATE"]
                ),
                DepartmentConfig(GD_HOSPITAL, "广东省示范妇幼保健院", "GD", ["BIRTH_MEDICAL"]),
            ],
            scrypt_n=TEST_ONLY_SCRYPT_N,
        )
        sessions = open_store(db_url)
        tokens = {
            "zj": create_token(sessions, ZJ_MARKET, ["BUSINESS_LICENCE", "REAL_ESTATE"], "case"),
            "zj-estate": create_token(sessions, ZJ_MARKET, ["REAL_ESTATE"], "estate"),
            "gd": create_token(sessions, GD_HOSPITAL, ["BIRTH_MEDICAL"], "ward"),
        }
        Site(home, PASSWORD).pki.export_roots(home / "roots.pem")
        VerifierConfig(
            rpc_url=node.rpc_url,
            registry_address=config.deployment.registry_address,
            deploy_block=config.deployment.deploy_block,
            trust_roots="roots.pem",
            proof_directories={"*": "proofs"},  # where the issuer writes them
        ).save(home / "verifier.json")
        issuer.start()
        verifier.start()
        yield DepartmentSite(home, node, db_url, tokens, issuer, verifier)
    finally:
        issuer.stop()
        verifier.stop()
        node.stop()
