"""``ecert network besu-config`` as an operator runs it; then the registry deployed by the very
accounts the kit allowlisted, on anvil running London rules (the stand-in for the Besu chain,
which cannot be installed here)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from issuer.besu_home import kit_inputs
from issuer.besu_kit import build_besu_kit
from issuer.site import ProvinceConfig, authority_key, bootstrap_network
from ledger.artifact import load_registry_artifact
from ledger.chain import Chain
from ledger.keys import KeyStore
from ledger.node import AnvilNode, free_port
from ledger.registry import Registry
from tests.conftest import TEST_ONLY_SCRYPT_N

pytestmark = pytest.mark.anvil
PASSWORD = "besu kit cli password"


def test_besu_config_writes_the_kit_and_never_overwrites_it(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "ECERT_HOME": str(tmp_path / "site"),
        "ECERT_KEY_PASSWORD": PASSWORD,
        "ECERT_EVM": "london",
        "COLUMNS": "200",
    }
    command = [sys.executable, "-m", "cli.main", "network", "besu-config", "--validators", "4",
               "--out", "kit", "--province", "ZJ:浙江省", "--province", "GD:广东省"]  # fmt: skip

    def besu_config() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False
        )

    made = besu_config()
    assert made.returncode == 0, made.stderr
    assert "ZJ runs 2 of 4 validators" in made.stderr
    kit = tmp_path / "kit"
    genesis = json.loads((kit / "genesis.json").read_text())
    assert genesis["config"]["londonBlock"] == 0
    assert "shanghaiTime" not in genesis["config"]
    allowlist = tomllib.loads((kit / "permissions_config.toml").read_text())["accounts-allowlist"]
    assert len(allowlist) == 3  # the consortium admin and the two province authorities
    assert sorted(p.name for p in kit.iterdir()) == [
        "gd", "gd-2", "genesis.json", "nodes.json", "permissions_config.toml", "zj", "zj-2",
    ]  # fmt: skip
    for secret in kit.rglob("key"):
        assert secret.read_text().strip()[2:] not in made.stdout + made.stderr
    again = besu_config()
    assert again.returncode == 2
    assert "not empty" in again.stderr


def test_the_registry_is_deployed_by_the_allowlisted_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kit first, the chain next, then ``ecert network init``'s set-up: it finds the admin
    and authority keys the kit allowlisted and funded, and deploys the London build."""
    monkeypatch.setenv("ECERT_EVM", "london")
    home = tmp_path / "site"
    keys = KeyStore(home / "keys", PASSWORD, scrypt_n=TEST_ONLY_SCRYPT_N)
    inputs = kit_inputs(home, keys, ["ZJ", "GD"])
    kit = build_besu_kit(
        keys, tmp_path / "kit", provinces=inputs.provinces, validators=4,
        accounts=inputs.accounts, chain_id=31_330, evm="london",
    )  # fmt: skip
    node = AnvilNode(tmp_path / "chain", port=free_port(), hardfork="london", persist=False)
    node.start()
    try:
        chain = Chain.connect(node.rpc_url)
        config = bootstrap_network(
            home, PASSWORD, chain,
            [ProvinceConfig("ZJ", "浙江省", "http://127.0.0.1:8801"),
             ProvinceConfig("GD", "广东省", "http://127.0.0.1:8802")],
            [], scrypt_n=TEST_ONLY_SCRYPT_N,
        )  # fmt: skip
        registry = Registry(chain, config.deployment.registry_address)
        assert registry.admin() in kit.accounts
        assert {keys.address(authority_key(code)) for code in ("ZJ", "GD")} <= set(kit.accounts)
        assert sorted(keys.names()) == sorted(
            ["consortium-admin", "province-zj", "province-gd", "bundle-zj", "bundle-gd"]
            + [f"besu-node-{n.name}" for n in kit.nodes]
        )
        code = registry.code().hex()
        assert code == load_registry_artifact("london").deployed_bytecode.removeprefix("0x")
        assert registry.runs_build("london")
        assert not registry.runs_build("cancun")
        env = {"ECERT_HOME": str(home)}
        checked = CliRunner().invoke(app, ["network", "check-code"], env=env)
        assert checked.exit_code == 0, checked.output
        assert "runs the london build" in checked.output
        other = CliRunner().invoke(app, ["network", "check-code", "--evm", "cancun"], env=env)
        assert other.exit_code == 1, other.output
    finally:
        node.stop()
    down = CliRunner().invoke(app, ["network", "check-code"], env=env)
    assert down.exit_code == 2, down.output
