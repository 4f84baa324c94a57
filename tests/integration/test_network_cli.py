"""``ecert network`` as an operator runs it, against a real anvil node: create a consortium,
admit a province, set and withdraw an agreement, read the matrix; refusals exit 1."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.evm import evm_target
from ledger.node import AnvilNode, free_port

pytestmark = pytest.mark.anvil


def test_network_init_admit_recognise_matrix(tmp_path: Path) -> None:
    node = AnvilNode(tmp_path / "chain", port=free_port())
    node.start()
    env = {
        "PATH": "/usr/bin:/bin",
        "ECERT_HOME": str(tmp_path / "site"),
        "ECERT_KEY_PASSWORD": "network cli password",
        "COLUMNS": "120",
        "ECERT_EVM": evm_target(),  # the rules the node runs: init deploys the build for them
    }

    def ecert(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "network", *args],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    def gd_row() -> str:
        shown = ecert("matrix", "--type", "BUSINESS_LICENCE")
        assert shown.returncode == 0, shown.stderr
        header = next(line for line in shown.stdout.splitlines() if "issuing" in line)
        columns = [c.strip() for c in header.split("┃")]
        row = next(line for line in shown.stdout.splitlines() if line.startswith("│ GD"))
        return row.split("│")[columns.index("SH")]

    try:
        created = ecert("init", "--rpc", node.rpc_url, "--province", "ZJ:浙江省",
                        "--province", "GD:广东省",
                        "--verifier-url", "ZJ=https://verify.zj.example/")  # fmt: skip
        assert created.returncode == 0, created.stderr
        assert "consortium of ZJ, GD" in created.stdout
        network = tmp_path / "site" / "network.json"
        urls = {p["code"]: p["verifier_base"] for p in json.loads(network.read_text())["provinces"]}
        assert urls == {"ZJ": "https://verify.zj.example", "GD": "http://127.0.0.1:8802"}
        keys = tmp_path / "site" / "keys"
        assert stat.S_IMODE(keys.stat().st_mode) == 0o700
        for key_file in keys.glob("*.json"):  # one keystore cost for every key, 2^17
            assert json.loads(key_file.read_text())["crypto"]["kdfparams"]["n"] == 1 << 17
        assert ecert("init", "--rpc", node.rpc_url, "--province", "JS:江苏省").returncode == 2
        admitted = ecert("admit", "SH", "上海市")
        assert admitted.returncode == 0, admitted.stderr
        sh = json.loads(network.read_text())["provinces"][-1]
        assert sh == {"code": "SH", "name": "上海市", "verifier_base": "http://127.0.0.1:8803"}
        assert ecert("admit", "SH", "上海市").returncode == 1  # already admitted: refused
        assert "✘" in gd_row()
        assert ecert("recognise", "GD", "SH", "BUSINESS_LICENCE").returncode == 0
        assert "✔" in gd_row()
        assert ecert("recognise", "GD", "SH", "BUSINESS_LICENCE", "--withdraw").returncode == 0
        assert "✘" in gd_row()
        selfish = ecert("recognise", "GD", "GD", "BUSINESS_LICENCE")
        assert selfish.returncode == 1
        assert "SelfRecognition" in selfish.stderr
    finally:
        node.stop()
