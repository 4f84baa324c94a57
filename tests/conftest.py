"""Shared fixtures: an in-process chain with a deployed registry and a small consortium."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.chain import Chain
from ledger.records import TxResult
from ledger.registry import Registry

TEST_ONLY_SCRYPT_N = 1 << 12
"""The keystore cost tests pass explicitly to ``bootstrap_network`` / ``KeyStore``, so that
setting up a consortium takes milliseconds instead of seconds. Nothing outside the tests may
choose a cost: everything else encrypts at ``ledger.keys.DEFAULT_SCRYPT_N`` (2^17)."""


@dataclass
class World:
    """A registry with provinces ZJ and GD, and issuer ZJ-AMR (business licences)."""

    chain: Chain
    registry: Registry
    deployed: TxResult
    admin: LocalAccount
    zj: LocalAccount
    gd: LocalAccount
    issuer: LocalAccount
    gd_issuer: LocalAccount
    outsider: LocalAccount
    seal_fp: bytes
    ca_fp: bytes
    """Fingerprint of the ZJ province CA that issued ZJ-AMR's seal."""
    gd_ca_fp: bytes


def fingerprint(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def build_world(chain: Chain, admin_key: bytes | None = None) -> World:
    accounts = [Account.create() for _ in range(6)]
    if admin_key is not None:  # same deployer and nonce: same registry address
        accounts[0] = Account.from_key(admin_key)
    for account in accounts:
        chain.fund(account.address, 10**20)
    admin, zj, gd, issuer, gd_issuer, outsider = accounts
    registry, deployed = Registry.deploy(chain, admin)
    registry.admit_province(admin, "ZJ", "浙江省", zj.address)
    registry.admit_province(admin, "GD", "广东省", gd.address)
    seal_fp = fingerprint("ZJ-AMR seal 1")
    ca_fp, gd_ca_fp = fingerprint("ZJ CA 1"), fingerprint("GD CA 1")
    registry.register_issuer(
        zj,
        province="ZJ",
        issuer_id="ZJ-AMR",
        account=issuer.address,
        name="浙江省市场监督管理局",
        seal_cert_fingerprint=seal_fp,
        ca_fingerprint=ca_fp,
        cert_types=["BUSINESS_LICENCE"],
    )
    registry.register_issuer(
        gd,
        province="GD",
        issuer_id="GD-HOSP",
        account=gd_issuer.address,
        name="广东省示范医院",
        seal_cert_fingerprint=fingerprint("GD-HOSP seal"),
        ca_fingerprint=gd_ca_fp,
        cert_types=["BIRTH_MEDICAL"],
    )
    return World(
        chain,
        registry,
        deployed,
        admin,
        zj,
        gd,
        issuer,
        gd_issuer,
        outsider,
        seal_fp,
        ca_fp,
        gd_ca_fp,
    )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the whole session (storage tests run on it and on SQLite)."""
    from tests.postgres import running_postgres  # noqa: PLC0415

    with running_postgres() as url:
        yield url


@pytest.fixture(scope="module")
def module_world() -> World:
    return build_world(Chain.in_process())


@pytest.fixture
def world(module_world: World) -> Iterator[World]:
    """The module's world, rolled back to its initial state after each test."""
    tester = module_world.chain.w3.provider.ethereum_tester  # type: ignore[attr-defined]
    snapshot = tester.take_snapshot()
    yield module_world
    tester.revert_to_snapshot(snapshot)
    module_world.chain.forget_nonces()
