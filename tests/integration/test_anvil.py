"""The ledger against a real anvil node: same behaviour as in-process, plus what only a real
node shows (node down, kill -9 and restart, the CLI and the demo as a user runs them)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.chain import Chain
from ledger.codes import RevocationReason
from ledger.errors import NodeUnavailable, RegistryRefused
from ledger.index import RegistryIndex
from ledger.merkle import MerkleTree
from ledger.node import AnvilNode, free_port
from tests.conftest import build_world

pytestmark = pytest.mark.anvil


def _refusal(call: object) -> str:
    try:
        call()  # type: ignore[operator]
    except RegistryRefused as refused:
        return refused.error
    raise AssertionError("not refused")


def _refusals(chain: Chain) -> list[str]:
    world = build_world(chain)
    r = world.registry
    tree = MerkleTree([os.urandom(32) for _ in range(8)])
    r.anchor(world.issuer, tree.root, 8, "BUSINESS_LICENCE")
    p = tree.proof(2)
    r.suspend_issuer(world.gd, "GD-HOSP")
    return [
        _refusal(lambda: r.anchor(world.outsider, os.urandom(32), 1, "BUSINESS_LICENCE")),
        _refusal(lambda: r.anchor(world.gd_issuer, os.urandom(32), 1, "BIRTH_MEDICAL")),
        _refusal(lambda: r.anchor(world.issuer, os.urandom(32), 1, "DEGREE_CERT")),
        _refusal(lambda: r.anchor(world.issuer, bytes(32), 1, "BUSINESS_LICENCE")),
        _refusal(
            lambda: r.revoke_certificate(
                world.gd_issuer,
                "ZJ-AMR",
                tree.root,
                p.leaf,
                p.siblings,
                RevocationReason.UNSPECIFIED,
            )
        ),
        _refusal(
            lambda: r.register_issuer(
                world.zj,
                province="GD",
                issuer_id="GD-X",
                account=world.outsider.address,
                name="x",
                seal_cert_fingerprint=os.urandom(32),
                ca_fingerprint=world.gd_ca_fp,
                cert_types=[],
            )
        ),
        _refusal(lambda: r.admit_province(world.zj, "JS", "江苏省", world.outsider.address)),
    ]


def test_reverts_decode_the_same_on_anvil_and_eth_tester(anvil: AnvilNode) -> None:
    on_anvil = _refusals(Chain.connect(anvil.rpc_url))
    assert on_anvil == _refusals(Chain.in_process())
    assert on_anvil == [
        "CertificateRegistryNotAnIssuer",
        "CertificateRegistryIssuerNotActive",
        "CertificateRegistryCertTypeNotAllowed",
        "CertificateRegistryInvalidRoot",
        "CertificateRegistryNotRevoker",
        "CertificateRegistryNotProvinceAuthority",
        "OwnableUnauthorizedAccount",
    ]


def test_anchor_prove_and_index_on_anvil(anvil: AnvilNode, tmp_path: Path) -> None:
    world = build_world(Chain.connect(anvil.rpc_url))
    tree = MerkleTree([os.urandom(32) for _ in range(1024)])
    result = world.registry.anchor(world.issuer, tree.root, 1024, "BUSINESS_LICENCE")
    assert result.gas_used / 1024 <= 60
    for i in (0, 513, 1023):
        p = tree.proof(i)
        assert world.registry.verify_inclusion(tree.root, p.leaf, p.siblings)
    index = RegistryIndex(
        tmp_path / "i.sqlite",
        registry_address=world.registry.address,
        start_block=world.deployed.block_number,
    )
    index.sync(world.registry)
    assert index.anchor_of("ZJ-AMR", tree.root) == world.registry.anchor_of("ZJ-AMR", tree.root)


def test_node_down_is_unavailable_never_refused(tmp_path: Path) -> None:
    node = AnvilNode(tmp_path / "chain", port=free_port())
    node.start()
    try:
        world = build_world(Chain.connect(node.rpc_url))
        tree = MerkleTree([os.urandom(32) for _ in range(4)])
        world.registry.anchor(world.issuer, tree.root, 4, "BUSINESS_LICENCE")
        index = RegistryIndex(":memory:", registry_address=world.registry.address)
        index.sync(world.registry)
    finally:
        node.stop()
    with pytest.raises(NodeUnavailable):
        world.registry.anchor_of("ZJ-AMR", tree.root)
    with pytest.raises(NodeUnavailable):
        world.registry.anchor(world.issuer, os.urandom(32), 1, "BUSINESS_LICENCE")
    with pytest.raises(NodeUnavailable):
        index.sync(world.registry)
    assert not world.chain.is_reachable()
    # The index still answers, and says how old its data is.
    assert index.anchor_of("ZJ-AMR", tree.root) is not None
    assert index.freshness().block >= 0


def test_chain_state_survives_kill_9(tmp_path: Path) -> None:
    state = tmp_path / "chain"
    port = free_port()
    node = AnvilNode(state, port=port)
    node.start()
    world = build_world(Chain.connect(node.rpc_url))
    tree = MerkleTree([os.urandom(32) for _ in range(4)])
    world.registry.anchor(world.issuer, tree.root, 4, "BUSINESS_LICENCE")
    time.sleep(1.6)  # --state-interval 1: the dump happens every second
    node.kill()
    restarted = AnvilNode(state, port=port)
    restarted.start()
    try:
        anchor = world.registry.anchor_of("ZJ-AMR", tree.root)
        assert anchor is not None
        assert anchor.issuer_id == "ZJ-AMR"
        world.chain.forget_nonces()
        world.registry.anchor(world.issuer, os.urandom(32), 1, "BUSINESS_LICENCE")
    finally:
        restarted.stop()


def _ecert(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_cli_chain_up_status_down(tmp_path: Path) -> None:
    env = {"ECERT_HOME": str(tmp_path)}
    port = str(free_port())
    up = _ecert("chain", "up", "--port", port, env=env)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        status = _ecert("chain", "status", "--port", port, env=env)
        assert status.returncode == 0
        assert f"127.0.0.1:{port}" in status.stdout
        assert _ecert("chain", "up", "--port", port, env=env).returncode == 2  # already running
    finally:
        down = _ecert("chain", "down", "--port", port, env=env)
    assert down.returncode == 0
    assert _ecert("chain", "status", "--port", port, env=env).returncode == 1
    assert (tmp_path / "chain" / "anvil-state.json").exists()


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    env = {
        "ECERT_HOME": str(tmp_path),
        "ECERT_KEY_PASSWORD": "demo test password",
        "COLUMNS": "200",
    }
    port = str(free_port())
    result = _ecert("demo", "--per-department", "3", "--port", port, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "contract MerkleProof.verify: True" in out
    assert "refused with CertificateRegistryIssuerNotActive" in out
    assert "refused with CertificateRegistryNotRevoker" in out
    assert "refused with CertificateRegistryNotProvinceAuthority" in out
    assert "GB 32100 check character" in out  # the mistyped record was named and refused
    assert "SUPERSEDED" in out
    assert re.search(r"audit log: \d+ entries, intact", out)
    assert "signed by GD, JS, ZJ" in out  # the trust bundle
    assert "certificate 真实有效 Genuine — offline, data as of block" in out
    assert "ecert chain up" in out.split("next")[-1]  # ends with the commands to try next
    # The network is the home's own: every command finds it where it looks.
    assert len(list((tmp_path / "out").glob("*.pdf"))) == 12
    assert len(list((tmp_path / "out").glob("*-qr.png"))) == 12
    assert len(list((tmp_path / "out").glob("*.ofd"))) == 12  # every certificate as an OFD too
    assert "from its OFD: ✔ 真实有效 Genuine" in out
    assert len(list((tmp_path / "keys").glob("*.json"))) == 11  # 8 chain keys, 3 BLS bundle keys
    assert (tmp_path / "pki" / "root.cert.pem").exists()
    network = json.loads((tmp_path / "network.json").read_text("utf-8"))
    assert network["demo"] is True
    assert network["deployment"]["rpc_url"] == f"http://127.0.0.1:{port}"
    assert [p["verifier_base"] for p in network["provinces"]] == [
        "http://127.0.0.1:8801",
        "http://127.0.0.1:8802",
        "http://127.0.0.1:8803",
    ]
    settings = json.loads((tmp_path / "verifier.json").read_text("utf-8"))
    assert settings["proof_directories"] == {"*": "proofs"}
    assert settings["public_urls"]["GD"] == "http://127.0.0.1:8803"
    assert settings["sm2_trust_roots"] == "sm2-roots.pem"
    assert len(list((tmp_path / "proofs").glob("*/*.json"))) == 12
    missing = _ecert(
        "demo",
        env={"ECERT_HOME": str(tmp_path), "ECERT_KEY_PASSWORD": "", "ECERT_KEY_PASSWORD_FILE": ""},
    )
    assert missing.returncode == 2
    assert "ECERT_KEY_PASSWORD" in missing.stdout
    assert "at least 12 characters" in missing.stdout


def test_the_demo_never_touches_a_network_it_did_not_make(tmp_path: Path) -> None:
    """As a user meets it (the rules themselves: tests/cli/test_demo_home.py)."""
    (tmp_path / "made-by-demo.txt").write_text("made by the demo once\n")
    deployment = {
        "rpc_url": "http://127.0.0.1:8545",
        "chain_id": 31330,
        "registry_address": "0x" + "ab" * 20,
        "deploy_block": 1,
        "compiler_version": "0.8.37",
    }
    network = {"deployment": deployment, "provinces": [], "departments": []}  # no "demo" mark
    (tmp_path / "network.json").write_text(json.dumps(network))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    env = {"ECERT_HOME": str(tmp_path), "ECERT_KEY_PASSWORD": "demo test password"}
    refused = _ecert("demo", "--port", str(free_port()), env=env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    said = " ".join(refused.stdout.split())
    assert "demo not run" in said
    assert "the demo never replaces one" in said
    assert "Traceback" not in refused.stdout + refused.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
