"""What a second demo run does to a home, and where ``ecert chain up`` listens: the demo's own
home is rebuilt (its running chain stopped, the password file and the wallet kept); anything
else is refused and left exactly as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import chain_cmd
from cli.demo_home import MARKER, prepare_home
from ledger.errors import LedgerError
from ledger.node import AnvilNode, free_port, rpc_ready


def _network(home: Path, *, demo: bool, port: int = 8545) -> None:
    deployment = {
        "rpc_url": f"http://127.0.0.1:{port}",
        "chain_id": 31330,
        "registry_address": "0x" + "ab" * 20,
        "deploy_block": 1,
        "compiler_version": "0.8.37",
    }
    network = {"deployment": deployment, "provinces": [], "departments": [], "demo": demo}
    (home / "network.json").write_text(json.dumps(network), "utf-8")


def _contents(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in home.rglob("*") if p.is_file()}


def test_an_empty_home_or_one_with_only_the_password_is_made_the_demos(tmp_path: Path) -> None:
    home = tmp_path / ".ecert"
    assert prepare_home(home) == []
    assert (home / MARKER).is_file()
    (home / "demo-password").write_text("a random demo password\n")
    assert prepare_home(home) == [MARKER]  # the marker is written again, the password kept
    assert (home / "demo-password").read_text() == "a random demo password\n"


@pytest.mark.anvil
def test_the_demos_home_is_rebuilt_its_chain_stopped(tmp_path: Path) -> None:
    home = tmp_path / ".ecert"
    prepare_home(home)
    _network(home, demo=True)
    for name in ("issuer.sqlite", "verifier.json", "keys/issuer-x.json", "out/a.pdf"):
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text("from the first run")
    (home / "demo-password").write_text("a random demo password\n")
    (home / "wallet").mkdir()
    (home / "wallet" / "holder.json").write_text("{}")
    chain = AnvilNode(home / "chain", port=free_port())
    chain.start(detach=True)  # as 'ecert chain up' leaves it
    removed = prepare_home(home)
    assert rpc_ready(chain.rpc_url) is None  # stopped before its state was removed
    assert set(removed) >= {"chain", "issuer.sqlite", "keys", "network.json", "out", MARKER}
    assert sorted(p.name for p in home.iterdir()) == ["demo-password", MARKER, "wallet"]
    assert (home / "wallet" / "holder.json").read_text() == "{}"


def test_a_network_the_demo_did_not_make_is_never_touched(tmp_path: Path) -> None:
    home = tmp_path / ".ecert"
    prepare_home(home)  # a demo home once ...
    _network(home, demo=False)  # ... where someone ran 'ecert network init' since
    (home / "keys").mkdir()
    (home / "keys" / "consortium-admin.json").write_text("{}")
    before = _contents(home)
    with pytest.raises(LedgerError, match="did not make"):
        prepare_home(home)
    assert _contents(home) == before


def test_files_the_demo_did_not_make_are_never_touched(tmp_path: Path) -> None:
    home = tmp_path / "bank"
    home.mkdir()
    (home / "verifier.json").write_text("{}")
    (home / "roots.pem").write_text("pem")
    before = _contents(home)
    with pytest.raises(LedgerError, match=r"roots\.pem, verifier\.json"):
        prepare_home(home)
    assert _contents(home) == before
    assert not (home / MARKER).exists()


def test_an_earlier_demos_folder_is_replaced(tmp_path: Path) -> None:
    home = tmp_path / ".ecert"
    (home / "demo").mkdir(parents=True)
    (home / "demo" / "network.json").write_text("{}")  # where the demo used to build
    (home / "demo-password").write_text("a random demo password\n")
    assert prepare_home(home) == ["demo"]
    assert sorted(p.name for p in home.iterdir()) == ["demo-password", MARKER]


def test_chain_up_listens_where_the_home_says_and_moves_both_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECERT_HOME", str(tmp_path))
    assert chain_cmd._node(None).port == 8545  # nothing configured
    _network(tmp_path, demo=True, port=39001)
    (tmp_path / "verifier.json").write_text(
        json.dumps(
            {
                "rpc_url": "http://127.0.0.1:39001",
                "registry_address": "0x" + "ab" * 20,
                "deploy_block": 1,
                "trust_roots": "roots.pem",
            }
        )
    )
    assert chain_cmd._node(None).port == 39001
    assert chain_cmd._node(39002).port == 39002
    assert chain_cmd._follow(39002) == [tmp_path / "network.json", tmp_path / "verifier.json"]
    network = json.loads((tmp_path / "network.json").read_text())
    assert network["deployment"]["rpc_url"] == "http://127.0.0.1:39002"
    assert network["demo"] is True
    assert json.loads((tmp_path / "verifier.json").read_text())["rpc_url"].endswith(":39002")
    assert chain_cmd._node(None).port == 39002
    assert chain_cmd._follow(39002) == []  # nothing to rewrite
    _network(tmp_path, demo=False, port=39003)
    network = json.loads((tmp_path / "network.json").read_text())
    network["deployment"]["rpc_url"] = "https://rpc.consortium.example"  # not ours to move
    (tmp_path / "network.json").write_text(json.dumps(network))
    assert chain_cmd._follow(8545) == [tmp_path / "verifier.json"]
    assert "consortium.example" in (tmp_path / "network.json").read_text()
