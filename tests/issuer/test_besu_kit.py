"""The Besu QBFT kit against Besu's documented formats: the genesis (``config.qbft`` keys, the
EVM milestone and no later one, ``extraData`` as in the docs' own examples), the permissions
file, per-node TOML configuration with only documented options, and node keys that stay
encrypted at rest except for the one file Besu reads, in that node's folder, mode 600."""

from __future__ import annotations

import json
import re
import stat
import tomllib
from pathlib import Path

import pytest
import rlp as pyrlp
from eth_account import Account

from issuer.besu_kit import BesuKit, build_besu_kit, node_key_name, plan_nodes
from issuer.qbft import BFT_MIX_HASH, QbftTiming, decode_extra_data, encode_extra_data, genesis
from ledger.errors import LedgerError
from ledger.keys import KeyStore
from tests.conftest import TEST_ONLY_SCRYPT_N

PASSWORD = "besu-kit-test-password"

# besu.hyperledger.org, "Configure QBFT consensus": the genesis example (block header validator
# selection), the contract-selection example, and the output of `besu rlp encode`.
DOC_VALIDATORS = [
    "0x64a702e6263b7297a96638cac6ae65e6541f4169",
    "0x3923390ad55e90c237593b3b0e401f3b08a03185",
    "0xaefdb9a738c9f433e5b6b212a6d62f6370c2f692",
    "0xc7eeb9a4e00ce683cf93039b212648e01c6c6b78",
]
DOC_EXTRA_DATA = (
    "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f8549464a702e626"
    "3b7297a96638cac6ae65e6541f4169943923390ad55e90c237593b3b0e401f3b08a0318594aefdb9a738c9f4"
    "33e5b6b212a6d62f6370c2f69294c7eeb9a4e00ce683cf93039b212648e01c6c6b78c080c0"
)
DOC_TO_ENCODE = [
    "0x4592c8e45706cc08b8f44b11e43cba0cfc5892cb",
    "0x06e23768a0f59cf365e18c2e0c89e151bcdedc70",
    "0xc5327f96ee02d7bcbc1bf1236b8c15148971e1de",
    "0xab5e7f4061c605820d3744227eed91ff8e2c8908",
]
DOC_ENCODED = (
    "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f854944592c8e457"
    "06cc08b8f44b11e43cba0cfc5892cb9406e23768a0f59cf365e18c2e0c89e151bcdedc7094c5327f96ee02d7"
    "bcbc1bf1236b8c15148971e1de94ab5e7f4061c605820d3744227eed91ff8e2c8908c080c0"
)
DOC_CONTRACT_SELECTION = "0xe5a0" + "00" * 32 + "c0c080c0"

# Options documented in Besu's CLI reference (besu.hyperledger.org, "Command line options");
# a config file key is an option name without its leading dashes.
BESU_OPTIONS = {
    "data-path",
    "genesis-file",
    "node-private-key-file",
    "p2p-host",
    "p2p-port",
    "bootnodes",
    "rpc-http-enabled",
    "rpc-http-host",
    "rpc-http-port",
    "rpc-http-api",
    "host-allowlist",
    "min-gas-price",
    "permissions-nodes-config-file-enabled",
    "permissions-nodes-config-file",
    "permissions-accounts-config-file-enabled",
    "permissions-accounts-config-file",
}
LATER_THAN_LONDON = {"mergeNetSplitBlock", "shanghaiTime", "cancunTime", "pragueTime"}
ENODE = re.compile(r"enode://([0-9a-f]{128})@127\.0\.0\.1:(\d+)")


def test_extra_data_is_byte_for_byte_the_documented_examples() -> None:
    assert encode_extra_data(DOC_VALIDATORS) == DOC_EXTRA_DATA
    assert encode_extra_data(DOC_TO_ENCODE) == DOC_ENCODED
    decoded = decode_extra_data(DOC_EXTRA_DATA)
    assert [v.lower() for v in decoded.validators] == DOC_VALIDATORS
    assert (decoded.vanity, decoded.vote, decoded.round, decoded.seals) == (bytes(32), [], 0, [])
    assert decode_extra_data(DOC_CONTRACT_SELECTION).validators == []


def test_extra_data_read_by_pyrlp() -> None:
    """The same structure read by the rlp package web3 installs, which we did not write."""
    vanity, validators, vote, round_, seals = pyrlp.decode(
        bytes.fromhex(encode_extra_data(DOC_TO_ENCODE)[2:])
    )
    assert vanity == bytes(32)
    assert ["0x" + v.hex() for v in validators] == DOC_TO_ENCODE
    assert (vote, round_, seals) == ([], b"", [])


def test_extra_data_refuses_what_is_not_qbft() -> None:
    with pytest.raises(LedgerError):
        decode_extra_data("0x" + pyrlp.encode([bytes(32), [], []]).hex())
    with pytest.raises(LedgerError):
        decode_extra_data("0x" + pyrlp.encode([bytes(31), [], [], b"", []]).hex())
    with pytest.raises(LedgerError):
        encode_extra_data([])
    with pytest.raises(LedgerError):
        encode_extra_data([DOC_VALIDATORS[0], DOC_VALIDATORS[0]])


def test_london_genesis_has_the_london_milestone_and_no_later_one() -> None:
    doc = genesis(chain_id=2026, evm="london", validators=DOC_TO_ENCODE)
    config = doc["config"]
    assert isinstance(config, dict)
    assert config["londonBlock"] == 0
    assert config["zeroBaseFee"] is True
    assert not LATER_THAN_LONDON & set(config)
    assert set(config["qbft"]) == {"blockperiodseconds", "epochlength", "requesttimeoutseconds"}
    assert doc["mixHash"] == BFT_MIX_HASH
    assert doc["difficulty"] == "0x1"
    # the genesis lists validators ascending
    extra = decode_extra_data(str(doc["extraData"]))
    assert [v.lower() for v in extra.validators] == sorted(DOC_TO_ENCODE)
    cancun = genesis(chain_id=2026, evm="cancun", validators=DOC_TO_ENCODE)["config"]
    assert isinstance(cancun, dict)
    assert cancun["shanghaiTime"] == cancun["cancunTime"] == 0
    with pytest.raises(LedgerError):
        genesis(chain_id=1, evm="istanbul", validators=DOC_TO_ENCODE)
    with pytest.raises(LedgerError):
        QbftTiming(blockperiodseconds=4, requesttimeoutseconds=4)


def test_plan_spreads_validators_over_provinces() -> None:
    assert plan_nodes(["ZJ", "GD", "SH"], 2) == [
        ("zj", "ZJ", True),
        ("gd", "GD", True),
        ("sh", "SH", False),
    ]
    five = plan_nodes(["ZJ", "GD"], 5)
    assert [n for n, _, v in five if v] == ["zj", "gd", "zj-2", "gd-2", "zj-3"]
    with pytest.raises(LedgerError):
        plan_nodes(["ZJ"], 0)


def _kit(tmp_path: Path, out: str = "kit") -> tuple[KeyStore, BesuKit, list[str]]:
    keys = KeyStore(tmp_path / "keys", PASSWORD, scrypt_n=TEST_ONLY_SCRYPT_N)
    accounts = [Account.create().address for _ in range(3)]
    kit = build_besu_kit(
        keys,
        tmp_path / out,
        provinces=["ZJ", "GD", "SH"],
        validators=4,
        accounts=accounts,
        chain_id=31_330,
        evm="london",
    )
    return keys, kit, accounts


def test_kit_files_follow_besus_formats(tmp_path: Path) -> None:
    _, kit, accounts = _kit(tmp_path)
    out = kit.out
    assert [(n.name, n.validator) for n in kit.nodes] == [
        ("zj", True),
        ("gd", True),
        ("sh", True),
        ("zj-2", True),
    ]
    assert kit.warnings == [
        "ZJ runs 2 of 4 validators: its outage alone stops the chain (QBFT tolerates 1)"
    ]
    doc = json.loads((out / "genesis.json").read_text())
    assert decode_extra_data(doc["extraData"]).validators == sorted(
        (n.address for n in kit.nodes), key=str.lower
    )
    assert not LATER_THAN_LONDON & set(doc["config"])
    assert set(doc["alloc"]) == {a[2:].lower() for a in accounts}
    permissions = tomllib.loads((out / "permissions_config.toml").read_text())
    assert set(permissions) == {"accounts-allowlist", "nodes-allowlist"}
    assert sorted(permissions["accounts-allowlist"]) == sorted(accounts)
    enodes = permissions["nodes-allowlist"]
    assert [ENODE.fullmatch(e) is not None for e in enodes] == [True] * 4
    ports = set()
    for node in kit.nodes:
        folder = out / node.name
        config = tomllib.loads((folder / "config.toml").read_text())
        assert set(config) <= BESU_OPTIONS, set(config) - BESU_OPTIONS
        assert config["rpc-http-host"] == "127.0.0.1"
        assert "QBFT" in config["rpc-http-api"]
        assert node.enode not in config["bootnodes"]
        assert set(config["bootnodes"]) <= set(enodes)  # Besu refuses bootnodes not allowlisted
        ports |= {config["p2p-port"], config["rpc-http-port"]}
        assert (folder / "genesis.json").read_text() == (out / "genesis.json").read_text()
        assert tomllib.loads((folder / "permissions_config.toml").read_text()) == permissions
        assert (folder / "key.pub").read_text().strip() == "0x" + node.public_key
    assert len(ports) == 8
    listing = json.loads((out / "nodes.json").read_text())
    assert [n["enode"] for n in listing["nodes"]] == enodes


def test_node_keys_are_encrypted_at_rest_and_plain_only_in_their_node_folder(
    tmp_path: Path,
) -> None:
    keys, kit, _ = _kit(tmp_path)
    everything = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    for node in kit.nodes:
        folder = kit.out / node.name
        key_file = folder / "key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        secret = key_file.read_text().strip()
        assert Account.from_key(secret).address == node.address
        holders = [p for p, data in everything.items() if secret[2:].encode() in data.lower()]
        assert holders == [key_file]
        stored = json.loads((keys.directory / f"{node_key_name(node.name)}.json").read_text())
        assert stored["crypto"]["kdf"] == "scrypt"
        assert bytes.fromhex(secret[2:]) == keys.load_secret(node_key_name(node.name))


def test_a_second_kit_keeps_the_node_identities_and_never_overwrites(tmp_path: Path) -> None:
    _, first, _ = _kit(tmp_path)
    _, second, _ = _kit(tmp_path, "kit-again")
    assert [n.enode for n in first.nodes] == [n.enode for n in second.nodes]
    with pytest.raises(LedgerError, match="not empty"):
        _kit(tmp_path)


def test_a_province_joining_keeps_the_chain_and_every_other_node(tmp_path: Path) -> None:
    keys, first, accounts = _kit(tmp_path)
    joined = build_besu_kit(
        keys,
        tmp_path / "join",
        provinces=["ZJ", "GD", "SH", "JS"],
        validators=5,
        accounts=[*accounts, Account.create().address],
        chain_id=31_330,
        evm="london",
        existing_genesis=(first.out / "genesis.json").read_text(),
    )
    assert (joined.out / "genesis.json").read_text() == (first.out / "genesis.json").read_text()
    before = {n.name: n for n in first.nodes}
    after = {n.name: n for n in joined.nodes}
    assert all(after[name] == node for name, node in before.items())  # same keys and ports
    assert after["js"].validator
    assert [w for w in joined.warnings if "qbft_proposeValidatorVote" in w] == [
        f"js is not a validator of this chain yet: more than half of its validators vote it in "
        f'with qbft_proposeValidatorVote("{after["js"].address}", true)'
    ]
    config = tomllib.loads((joined.out / "js" / "config.toml").read_text())
    assert sorted(config["bootnodes"]) == sorted(n.enode for n in first.nodes)
    with pytest.raises(LedgerError, match="not a QBFT genesis"):
        build_besu_kit(
            keys, tmp_path / "bad", provinces=["ZJ"], validators=1, accounts=[],
            chain_id=1, evm="london", existing_genesis="{}",
        )  # fmt: skip
