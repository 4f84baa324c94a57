"""``ecert pki revoke-seal`` and ``ecert pki distrust-ca`` as an operator runs them, against a
real anvil node: the registry records the seal's CA at registration, a revocation or distrust
with its effective time, only an earlier time on a repeat; usage errors exit 2 and change
nothing, refusals exit 1. Two calls run ``ecert`` as its own process (exit codes, no stack
trace); the others go through the same command objects in-process (each process start costs
about 3 s of imports)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from issuer.samples import department_id
from issuer.site import DepartmentConfig, ProvinceConfig, Site, bootstrap_network
from ledger.chain import Chain
from ledger.codes import RevocationReason
from ledger.node import AnvilNode, free_port

pytestmark = pytest.mark.anvil

PASSWORD = "compromise cli password"
ZJ_MARKET = department_id("330000", "MB0000011")


def test_revoke_seal_and_distrust_ca_through_the_cli(tmp_path: Path) -> None:
    node = AnvilNode(tmp_path / "chain", port=free_port())
    node.start()
    env = {
        "PATH": "/usr/bin:/bin",
        "ECERT_HOME": str(tmp_path),
        "ECERT_KEY_PASSWORD": PASSWORD,
        "COLUMNS": "200",
    }

    def process(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "pki", *args],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    def pki(*args: str) -> subprocess.CompletedProcess[str]:
        done = CliRunner().invoke(app, ["pki", *args], env=env)
        return subprocess.CompletedProcess(args, done.exit_code, done.stdout, done.stderr)

    try:
        bootstrap_network(
            tmp_path,
            PASSWORD,
            Chain.connect(node.rpc_url),
            [
                ProvinceConfig("ZJ", "浙江省", "https://zj.verify.ecert.example"),
                ProvinceConfig("GD", "广东省", "https://gd.verify.ecert.example"),
            ],
            [DepartmentConfig(ZJ_MARKET, "浙江省市场监督管理局", "ZJ", ["BUSINESS_LICENCE"])],
        )
        site = Site(tmp_path, PASSWORD)
        registry = site.registry()
        first_seal = site.pki.seal_fingerprint(ZJ_MARKET)
        zj_ca = site.pki.province_ca_fingerprint("ZJ")
        registered = registry.seal_certificate(first_seal)
        assert registered is not None
        assert registered.ca_fingerprint == zj_ca  # bootstrap passed the real CA's fingerprint

        # Default fingerprint: the seal the registry lists as current.
        done = process("revoke-seal", "--issuer", ZJ_MARKET, "--at", "2026-12-01T08:00:00+08:00",
                       "--reason", "superseded")  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert first_seal.hex() in done.stdout
        revocation = registry.seal_revocation(first_seal)
        assert revocation is not None
        assert (revocation.effective_from, revocation.reason) == (
            datetime(2026, 12, 1, tzinfo=UTC),
            RevocationReason.SUPERSEDED,
        )
        # Only earlier on a repeat (the compromise started before we thought).
        later = pki("revoke-seal", "--issuer", ZJ_MARKET, "--at", "2026-12-02T00:00:00Z",
                    "--reason", "key-compromise")  # fmt: skip
        assert later.returncode == 1
        assert "EffectiveTimeNotEarlier" in later.stderr
        earlier = pki("revoke-seal", "--issuer", ZJ_MARKET, "--at", "2026-11-20T00:00:00Z",
                      "--reason", "key-compromise")  # fmt: skip
        assert earlier.returncode == 0, earlier.stderr
        revocation = registry.seal_revocation(first_seal)
        assert revocation is not None
        assert (revocation.effective_from, revocation.reason) == (
            datetime(2026, 11, 20, tzinfo=UTC),
            RevocationReason.KEY_COMPROMISE,
        )

        # A usage error (the parsers' other refusals: tests/cli): exit 2, nothing sent.
        naive = process("revoke-seal", "--issuer", ZJ_MARKET, "--at", "2026-11-01T00:00:00",
                        "--reason", "key-compromise")  # fmt: skip
        assert naive.returncode == 2
        assert "time zone" in naive.stderr
        assert "Traceback" not in naive.stderr
        assert registry.seal_revocation(first_seal) == revocation

        # A rotated-out seal by fingerprint; a fingerprint the registry does not hold: exit 1.
        assert pki("rotate-seal", "--issuer", ZJ_MARKET).returncode == 0
        second_seal = site.pki.seal_fingerprint(ZJ_MARKET)
        assert second_seal != first_seal
        rotated = registry.seal_certificate(second_seal)
        assert rotated is not None
        assert rotated.ca_fingerprint == zj_ca
        unknown = pki("revoke-seal", "--issuer", ZJ_MARKET, "--at", "now", "--reason", "2",
                      "--fingerprint", zj_ca.hex())  # fmt: skip
        assert unknown.returncode == 1
        assert "UnknownSealCertificate" in unknown.stderr
        assert registry.seal_revocation(second_seal) is None  # the new seal is untouched

        # The consortium admin distrusts ZJ's CA from now on.
        before = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
        distrusted = pki("distrust-ca", "--province", "ZJ", "--at", "now",
                         "--reason", "key-compromise")  # fmt: skip
        assert distrusted.returncode == 0, distrusted.stderr
        distrust = registry.ca_distrust(zj_ca)
        assert distrust is not None
        assert distrust.province == "ZJ"
        assert distrust.reason is RevocationReason.KEY_COMPROMISE
        assert before <= distrust.effective_from <= datetime.now(UTC)
        again = pki("distrust-ca", "--province", "ZJ", "--at", "now", "--reason", "1")
        assert again.returncode == 1
        assert "EffectiveTimeNotEarlier" in again.stderr
        assert pki("distrust-ca", "--province", "SH", "--at", "now",
                   "--reason", "1").returncode == 2  # fmt: skip
        assert registry.ca_distrust(site.pki.province_ca_fingerprint("GD")) is None
    finally:
        node.stop()
