"""The provinces' bundle workflow through the real command line (``ecert bundle key / build /
sign / aggregate / verify``, and for deltas ``build --since / delta / verify --base / apply /
show``), and verifiers in two provinces passing the signed bundle to each other over HTTP
(``/api/v1/bundle``, ``?since=`` for a delta), each verifying it again: real processes on
127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cli.main import app
from ledger.bundle import SignedBundle
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


def _here(network: Network, *args: str) -> subprocess.CompletedProcess[str]:
    """The same command in this process (seconds less per call than a fresh interpreter)."""
    env = {"ECERT_HOME": str(network.home), "ECERT_KEY_PASSWORD": PASSWORD, "COLUMNS": "200"}
    done = CliRunner().invoke(app, list(args), env=env)
    return subprocess.CompletedProcess(args, done.exit_code, done.stdout, done.stderr)


def test_bundle_commands_and_peers_passing_bundles_over_http(
    network: Network, tmp_path: Path
) -> None:
    unsigned, zj, gd, signed = (tmp_path / n for n in ("b.ecb", "zj.sig", "gd.sig", "s.ecb"))
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
    alone = tmp_path / "alone.ecb"
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

    # Tampered on disk: the last byte of the snapshot changed.
    data = signed.read_bytes()
    tampered = tmp_path / "tampered.ecb"
    tampered.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    forged = _ecert(network, "bundle", "verify", str(tampered), "--config", config)
    assert forged.returncode == 1
    assert "SIGNATURE" in forged.stderr or "FORMAT" in forged.stderr
    # A day later (one more certificate anchored): the delta, signed by the same provinces.
    network.issue_one("after-the-bundle")
    later = {n: tmp_path / f"later-{n}" for n in ("delta", "zj", "gd", "signed", "d")}
    done = _here(network, "bundle", "build", "--since", str(signed), "--out", str(later["delta"]))
    assert done.returncode == 0, done.stderr
    assert "delta from block" in done.stdout
    for code in ("ZJ", "GD"):
        sig = later[code.lower()]
        done = _here(
            network, "bundle", "sign", str(later["delta"]), "--province", code, "--out", str(sig)
        )
        assert done.returncode == 0, done.stderr
    parts = (str(later[n]) for n in ("delta", "zj", "gd"))
    done = _here(network, "bundle", "aggregate", *parts, "--out", str(later["signed"]))
    assert done.returncode == 0, done.stderr
    checked = _here(
        network, "bundle", "verify", str(later["signed"]), "--base", str(signed), "--config", config
    )
    assert checked.returncode == 0, checked.stderr
    assert "delta from block" in checked.stdout
    shown = _here(network, "bundle", "show", str(later["signed"]))
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)["bundle"]
    assert body["kind"] == "delta"
    assert body["changes"]["anchors"] == {"removed": 0, "added": 1}
    # Applied: the signed full bundle of the new state; the delta between the two full bundles,
    # made again with no new signatures, is the same bytes.
    applied = tmp_path / "applied.ecb"
    done = _here(
        network, "bundle", "apply", str(signed), str(later["signed"]), "--out", str(applied),
        "--config", config,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = _here(network, "bundle", "delta", str(signed), str(applied), "--out", str(later["d"]))
    assert done.returncode == 0, done.stderr
    assert later["d"].read_bytes() == later["signed"].read_bytes()
    assert SignedBundle.load(applied).signature == SignedBundle.load(later["signed"]).signature

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
        assert served.headers["x-ecert-bundle"] == "full"
        assert served.content == signed.read_bytes()
        held = SignedBundle.load(signed).bundle.identity().hex()
        same = httpx.get(f"{servers[1].url}/api/v1/bundle?since={held}", timeout=10)
        assert same.headers["x-ecert-bundle"] == "delta"  # nothing new: an empty delta
        assert len(same.content) < len(served.content)
        unknown = httpx.get(f"{servers[1].url}/api/v1/bundle?since={'0' * 64}", timeout=10)
        assert unknown.headers["x-ecert-bundle"] == "full"
        bad = httpx.get(f"{servers[1].url}/api/v1/bundle?since=nothex", timeout=10)
        assert bad.status_code == 422
    finally:
        for server in servers:
            server.stop()
