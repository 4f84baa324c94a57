"""Test PKIs (ECDSA and SM2) generated once per session, and a sample certificate document."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from issuer.ofd import OfdSealer
from issuer.pki import Issued, issue_province_ca, issue_root, issue_seal
from issuer.render import CertificateDocument
from issuer.sesmaker import make_seal
from issuer.sm2pki import (
    Sm2Issued,
    issue_sm2_province_ca,
    issue_sm2_root,
    issue_sm2_seal,
    issue_sm2_seal_maker,
)
from ledger.catalogue import catalogue, validate
from ledger.claims import ClaimsCommitment
from ledger.qrpayload import QrPayload

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
