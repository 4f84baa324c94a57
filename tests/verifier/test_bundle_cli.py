"""The provinces' bundle workflow through the real command line (``ecert bundle key / build /
sign / aggregate / verify``), and verifiers in two provinces passing the signed bundle to each
other over HTTP (``/api/v1/bundle``), each verifying it again: real processes on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from tests.integration.servers import ServiceProcess
from tests.verifier.conftest import PASSWORD, Network
from verifier.config import VerifierConfig

pytestmark = pytest.mark.anvil


def _ecert(network: Network, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "ECERT_HOME": str(network.home),
            "ECERT_KEY_PASSWORD": PASSWORD,
        },
        check=False,
    )


def test_bundle_commands_and_peers_passing_bundles_over_http(
    network: Network, tmp_path: Path
) -> None:
    unsigned, zj, gd, signed = (tmp_path / n for n in ("b.json", "zj.sig", "gd.sig", "s.json"))
    assert _ecert(network, "bundle", "key", "--province", "GD").returncode == 0  # re-publish
    built = _ecert(network, "bundle", "build", "--out", str(unsigned))
    assert built.returncode == 0, built.stderr
    assert "digest" in built.stdout
    for code, out in (("ZJ", zj), ("GD", gd)):
        done = _ecert(
            network, "bundle", "sign", str(unsigned), "--province", code, "--out", str(out)
        )
        assert done.returncode == 0, done.stderr

    # One signature of two provinces is no quorum: refused, exit 1.
    alone = tmp_path / "alone.json"
    assert (
        _ecert(
            network, "bundle", "aggregate", str(unsigned), str(zj), "--out", str(alone)
        ).returncode
        == 0
    )
    config = str(network.config_path)
    refused = _ecert(network, "bundle", "verify", str(alone), "--config", config)
    assert refused.returncode == 1
    assert "QUORUM" in refused.stderr

    both = _ecert(
        network, "bundle", "aggregate", str(unsigned), str(zj), str(gd), "--out", str(signed)
    )
    assert both.returncode == 0, both.stderr
    accepted = _ecert(network, "bundle", "verify", str(signed), "--config", config)
    assert accepted.returncode == 0, accepted.stderr
    assert "GD, ZJ" in accepted.stdout

    # Tampered on disk: one byte of the snapshot changed.
    raw = json.loads(signed.read_text())
    raw["bundle"]["block_time"] += 1
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(raw))
    forged = _ecert(network, "bundle", "verify", str(tampered), "--config", config)
    assert forged.returncode == 1
    assert "SIGNATURE" in forged.stderr

    # ZJ's verifier takes the file; GD's verifier fetches it from ZJ's over HTTP.
    base = VerifierConfig.load(network.config_path)
    servers = []
    try:
        for region, source, folder in (
            ("ZJ", str(signed), "zj"),
            ("GD", "", "gd"),
        ):
            path = tmp_path / folder / "verifier.json"
            sources = [source] if source else [f"{servers[0].url}/api/v1/bundle"]
            replace(
                base,
                trust_roots=str(network.home / "roots.pem"),
                proof_directories={"*": str(network.home / "proofs")},
                index_dir=str(tmp_path / folder),
                trust_bundles=sources,
            ).save(path)
            server = ServiceProcess(
                "verifier",
                ["--region", region, "--config", str(path)],
                {"ECERT_HOME": str(network.home)},
                tmp_path / f"{folder}.log",
            )
            servers.append(server.start())
        for server in servers:
            health = httpx.get(f"{server.url}/healthz", timeout=10).json()
            assert health["trust_bundle"]["signers"] == ["GD", "ZJ"], health
        served = httpx.get(f"{servers[1].url}/api/v1/bundle", timeout=10)
        assert served.status_code == 200
        assert served.json()["signature"] == raw["signature"]
    finally:
        for server in servers:
            server.stop()
