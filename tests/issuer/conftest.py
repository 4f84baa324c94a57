"""Test PKIs (ECDSA and SM2) generated once per session, a sample certificate document,
and a pipeline for the test world on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from issuer.checkpoints import CheckpointFile
from issuer.department import Department
from issuer.ofd import OfdSealer
from issuer.pipeline import Pipeline, Submission
from issuer.pki import Issued, issue_province_ca, issue_root, issue_seal
from issuer.render import CertificateDocument
from issuer.seal import Sealer
from issuer.sesmaker import make_seal
from issuer.sm2pki import (
    Sm2Issued,
    issue_sm2_province_ca,
    issue_sm2_root,
    issue_sm2_seal,
    issue_sm2_seal_maker,
)
from issuer.store import open_store
from ledger.catalogue import catalogue, validate
from ledger.claims import ClaimsCommitment
from ledger.qrpayload import QrPayload
from tests.conftest import World
from tests.issuer.department_site import site  # noqa: F401  (shared by the service tests)

LICENCE = {
    "uscc": "91350100M000100Y43",
    "name": "杭州示范科技有限公司",
    "entity_type": "有限责任公司（自然人投资或控股）",
    "legal_representative": "张三",
    "registered_capital": "壹仟万元整",
    "established": "2020-05-18",
    "address": "浙江省杭州市西湖区文三路示范大厦1号楼15层",
    "business_scope": "一般项目：技术服务、技术开发、技术咨询；软件开发；信息系统集成服务。",
}


@dataclass(frozen=True)
class SamplePki:
    root: Issued
    zj: Issued
    seal: Issued


@pytest.fixture(scope="session")
def pki() -> SamplePki:
    root = issue_root()
    zj = issue_province_ca(root, "ZJ", "浙江省")
    seal = issue_seal(
        zj,
        department="浙江省市场监督管理局",
        organization_id="11330000002482000X",
        province_name="浙江省",
    )
    return SamplePki(root, zj, seal)


@pytest.fixture(scope="session")
def chain_account() -> LocalAccount:
    return Account.create()


def make_document(
    account: LocalAccount,
    claims: dict[str, str] | None = None,
    certificate_id: str = "2026BL00000001",
) -> CertificateDocument:
    claims = validate("BUSINESS_LICENCE", claims or LICENCE)
    secret = os.urandom(32)
    commitment = ClaimsCommitment(claims, secret).root
    now = datetime.now(UTC).replace(microsecond=0)
    until = now + timedelta(days=3650)
    qr = QrPayload(
        "11330000002482000X", "BUSINESS_LICENCE", certificate_id, commitment, now, until
    ).signed_by(account)
    return CertificateDocument(
        spec=catalogue()["BUSINESS_LICENCE"],
        certificate_id=certificate_id,
        issuer_id="11330000002482000X",
        issuer_name="浙江省市场监督管理局",
        province_name="浙江省",
        claims=claims,
        claims_secret=secret,
        claims_commitment=commitment,
        issued_at=now,
        valid_from=now,
        valid_until=until,
        qr_text=qr.url("https://zj.ecert.example"),
    )


@dataclass(frozen=True)
class SampleSm2:
    root: Sm2Issued
    zj: Sm2Issued
    maker: Sm2Issued
    seal: Sm2Issued
    sealer: OfdSealer


def make_sm2(department: str = "浙江省市场监督管理局") -> SampleSm2:
    root = issue_sm2_root()
    zj = issue_sm2_province_ca(root, "ZJ", "浙江省")
    maker = issue_sm2_seal_maker(zj, "浙江省")
    seal = issue_sm2_seal(
        zj, department=department, organization_id="11330000002482000X", province_name="浙江省"
    )
    now = datetime.now(UTC)
    made = make_seal(
        maker,
        seal,
        es_id="11330000002482000X-seal-1",
        name=department,
        valid_start=now - timedelta(days=1),
        valid_end=now + timedelta(days=1000),
    )
    return SampleSm2(root, zj, maker, seal, OfdSealer(seal, made))


@pytest.fixture(scope="session")
def sm2_pki() -> SampleSm2:
    return make_sm2()


def department(world: World, pki: SamplePki) -> Department:
    """ZJ-AMR of the test world, sealing with the session's test PKI."""
    return Department(
        issuer_id="ZJ-AMR",
        name="浙江省市场监督管理局",
        province_code="ZJ",
        province_name="浙江省",
        account=world.issuer,
        sealer=Sealer(pki.seal, [pki.zj.cert, pki.root.cert], location="浙江省"),
        verifier_base="https://zj.ecert.example",
    )


def licences(n: int, start: int = 0) -> list[Submission]:
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
def pipeline(world: World, pki: SamplePki, store_url: str, tmp_path: Path) -> Iterator[Pipeline]:
    sessions = open_store(store_url)
    yield Pipeline(
        sessions,
        [department(world, pki)],
        world.registry,
        batch_size=8,
        batch_window=timedelta(seconds=0),
        checkpoint_file=CheckpointFile(tmp_path / "audit-checkpoints.jsonl"),
        permit_ttl=timedelta(0),
    )
    sessions.kw["bind"].dispose()
