"""``confirmations`` in network.json: kept across save and load, 0 for a file written before it
existed, and passed to the home's registry index."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from cli import site_opts
from issuer.site import NetworkConfig, ProvinceConfig
from ledger.deployment import Deployment
from tests.conftest import World


def _network(world: World) -> NetworkConfig:
    deployment = Deployment(
        rpc_url="http://127.0.0.1:1",
        chain_id=world.chain.chain_id,
        registry_address=world.registry.address,
        deploy_block=world.deployed.block_number,
        compiler_version="test",
    )
    return NetworkConfig(deployment, [ProvinceConfig("ZJ", "浙江省", "https://zj.example")], [])


def test_confirmations_survive_save_and_load_and_default_to_0(world: World, tmp_path: Path) -> None:
    path = tmp_path / "network.json"
    replace(_network(world), confirmations=6).save(path)
    assert NetworkConfig.load(path).confirmations == 6
    raw = json.loads(path.read_text("utf-8"))
    del raw["confirmations"]  # a network.json from before
    path.write_text(json.dumps(raw), "utf-8")
    assert NetworkConfig.load(path).confirmations == 0


def test_the_home_index_waits_for_the_networks_confirmations(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(site_opts, "home", lambda: tmp_path)
    monkeypatch.setattr(site_opts, "network_registry", lambda network, rpc=None: world.registry)
    index, _ = site_opts.synced_index(replace(_network(world), confirmations=2), "test-index")
    assert index.confirmations == 2
    assert index.freshness().block == world.chain.block_number() - 2
