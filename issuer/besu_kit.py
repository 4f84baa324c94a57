"""The deployment kit for running the consortium chain on Hyperledger Besu with QBFT: one node
per province (the first ``validators`` of them validate; more validators than provinces are
spread round-robin), a genesis, the node and account allowlists, and a folder per node with its
Besu configuration.

Node keys are secp256k1 keys kept encrypted in the home's keystore (``besu-node-<name>``, the
same scrypt keystore as every chain key), so a second run gives the same enodes. The plaintext
key Besu reads exists only as ``<out>/<node>/key``, mode 600 in a mode-700 folder: that folder
goes to the province that runs the node and to no one else; everything else in the kit is public.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from eth_account import Account
from eth_keys.datatypes import PrivateKey

from issuer.qbft import QbftTiming, decode_extra_data, genesis
from ledger.errors import LedgerError
from ledger.keys import KeyStore, private_directory

__all__ = [
    "P2P_BASE_PORT",
    "RPC_APIS",
    "RPC_BASE_PORT",
    "BesuKit",
    "BesuNode",
    "build_besu_kit",
    "node_key_name",
    "plan_nodes",
    "to_toml",
]

P2P_BASE_PORT = 30303
RPC_BASE_PORT = 8645
"""The n-th province's node listens on P2P_BASE_PORT + n and answers JSON-RPC on
RPC_BASE_PORT + n (extra validator nodes from + 100 on), so a rehearsal of the whole
consortium fits on one machine and a province joining later moves no other node's ports."""
EXTRA_SLOTS = 100
RPC_APIS = ["ETH", "NET", "WEB3", "QBFT", "PERM", "ADMIN", "TXPOOL"]
PERMISSIONS_FILE = "permissions_config.toml"


def node_key_name(node: str) -> str:
    """The keystore name of a node's key."""
    return f"besu-node-{node}"


@dataclass(frozen=True, slots=True)
class BesuNode:
    """One Besu node of the consortium chain (public facts only)."""

    name: str
    """Folder and key name: the province code in lower case, ``-2``, ``-3`` for its extra
    validators."""
    province: str
    """The province that runs it."""
    validator: bool
    address: str
    """The node's address, which is its validator address in QBFT."""
    public_key: str
    """The 64-byte public key as hex: the node id in its enode URL."""
    p2p_host: str
    p2p_port: int
    rpc_port: int

    @property
    def enode(self) -> str:
        return f"enode://{self.public_key}@{self.p2p_host}:{self.p2p_port}"


@dataclass(frozen=True, slots=True)
class BesuKit:
    """What ``build_besu_kit`` wrote."""

    out: Path
    nodes: list[BesuNode]
    accounts: list[str]
    """The accounts allowlist: the consortium's transaction senders."""
    warnings: list[str]


def plan_nodes(provinces: Sequence[str], validators: int) -> list[tuple[str, str, bool]]:
    """``(node name, province, validates)`` for each node: one per province, the first
    ``validators`` provinces validating; beyond one each, extra validator nodes round-robin."""
    if not provinces:
        raise LedgerError("no provinces: a consortium chain needs at least one")
    if validators < 1:
        raise LedgerError("--validators must be at least 1")
    nodes = [(p.lower(), p, i < validators) for i, p in enumerate(provinces)]
    for extra in range(max(0, validators - len(provinces))):
        province = provinces[extra % len(provinces)]
        nodes.append((f"{province.lower()}-{2 + extra // len(provinces)}", province, True))
    return nodes


def _warnings(plan: Sequence[tuple[str, str, bool]]) -> list[str]:
    count = sum(1 for _, _, v in plan if v)
    tolerated = (count - 1) // 3
    notes = []
    if count < 4:
        notes.append(f"{count} validator(s): QBFT needs 4 to survive one faulty validator (3f+1)")
    per_province: dict[str, int] = {}
    for _, province, validates in plan:
        per_province[province] = per_province.get(province, 0) + int(validates)
    for province, held in sorted(per_province.items()):
        if count >= 4 and held > tolerated:
            notes.append(
                f"{province} runs {held} of {count} validators: its outage alone stops the "
                f"chain (QBFT tolerates {tolerated})"
            )
    return notes


def _node_secret(keys: KeyStore, name: str) -> bytes:
    key_name = node_key_name(name)
    if key_name in keys.names():
        return keys.load_secret(key_name)
    secret = bytes(Account.create().key)
    keys.store_secret(key_name, secret)
    return secret


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise LedgerError(f"no TOML form for {value!r}")


def to_toml(settings: Mapping[str, object]) -> str:
    """Flat ``key=value`` TOML, the shape of Besu's configuration and permissions files."""
    return "".join(f"{key}={_toml_value(value)}\n" for key, value in settings.items())


def _node_config(node: BesuNode, bootnodes: list[str]) -> dict[str, object]:
    return {
        "data-path": "data",
        "genesis-file": "genesis.json",
        "node-private-key-file": "key",
        "p2p-host": node.p2p_host,
        "p2p-port": node.p2p_port,
        "bootnodes": bootnodes,
        # JSON-RPC only on loopback: the province's own issuer and verifier run beside it.
        "rpc-http-enabled": True,
        "rpc-http-host": "127.0.0.1",
        "rpc-http-port": node.rpc_port,
        "rpc-http-api": RPC_APIS,
        "host-allowlist": ["localhost", "127.0.0.1"],
        "min-gas-price": 0,
        "permissions-nodes-config-file-enabled": True,
        "permissions-nodes-config-file": PERMISSIONS_FILE,
        "permissions-accounts-config-file-enabled": True,
        "permissions-accounts-config-file": PERMISSIONS_FILE,
    }


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text)


def build_besu_kit(
    keys: KeyStore,
    out: Path,
    *,
    provinces: Sequence[str],
    validators: int,
    accounts: Sequence[str],
    chain_id: int,
    evm: str,
    hosts: Mapping[str, str] | None = None,
    timing: QbftTiming | None = None,
    existing_genesis: str | None = None,
) -> BesuKit:
    """Write the kit into ``out`` (which must not exist or be empty). ``accounts`` are the
    consortium's transaction senders (allowlisted and funded in a new genesis); ``hosts`` maps
    a province code to the address its nodes listen on for peers (default 127.0.0.1).

    ``existing_genesis`` (the text of a running chain's genesis.json) is kept as it is, for
    nodes joining that chain: planned validators it does not list are voted in afterwards."""
    if out.exists() and any(out.iterdir()):
        raise LedgerError(f"{out} is not empty: choose a new folder for the kit")
    hosts = dict(hosts or {})
    unknown = sorted(set(hosts) - set(provinces))
    if unknown:
        raise LedgerError(f"--p2p-host for no province of the network: {', '.join(unknown)}")
    plan = plan_nodes(provinces, validators)
    nodes: list[BesuNode] = []
    secrets: dict[str, bytes] = {}
    for index, (name, province, validates) in enumerate(plan):
        slot = index if index < len(provinces) else EXTRA_SLOTS + index - len(provinces)
        secrets[name] = _node_secret(keys, name)
        node_key = PrivateKey(secrets[name]).public_key
        nodes.append(
            BesuNode(
                name=name,
                province=province,
                validator=validates,
                address=node_key.to_checksum_address(),
                public_key=node_key.to_bytes().hex(),
                p2p_host=hosts.get(province, "127.0.0.1"),
                p2p_port=P2P_BASE_PORT + slot,
                rpc_port=RPC_BASE_PORT + slot,
            )
        )
    allowlist = sorted(set(accounts), key=str.lower)
    notes = _warnings(plan)
    if existing_genesis is None:
        made = genesis(
            chain_id=chain_id,
            evm=evm,
            validators=[n.address for n in nodes if n.validator],
            funded=allowlist,
            timing=timing,
        )
        genesis_text = json.dumps(made, indent=2) + "\n"
        in_genesis = {n.address for n in nodes if n.validator}
    else:
        genesis_text = existing_genesis
        in_genesis = set(_genesis_validators(existing_genesis))
        notes += [
            f"{n.name} is not a validator of this chain yet: more than half of its validators "
            f'vote it in with qbft_proposeValidatorVote("{n.address}", true)'
            for n in nodes
            if n.validator and n.address not in in_genesis
        ]
    permissions = to_toml(
        {"accounts-allowlist": allowlist, "nodes-allowlist": [n.enode for n in nodes]}
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "genesis.json").write_text(genesis_text, "utf-8")
    (out / PERMISSIONS_FILE).write_text(permissions, "utf-8")
    listing = [asdict(n) | {"enode": n.enode} for n in nodes]
    public = {"chainId": chain_id, "evm": evm, "nodes": listing}
    (out / "nodes.json").write_text(json.dumps(public, indent=2) + "\n", "utf-8")
    bootnodes = [n.enode for n in nodes if n.address in in_genesis]
    for node in nodes:
        folder = private_directory(out / node.name)
        shutil.copyfile(out / "genesis.json", folder / "genesis.json")
        shutil.copyfile(out / PERMISSIONS_FILE, folder / PERMISSIONS_FILE)
        config = _node_config(node, [b for b in bootnodes if b != node.enode])
        (folder / "config.toml").write_text(to_toml(config), "utf-8")
        (folder / "key.pub").write_text("0x" + node.public_key + "\n", "ascii")
        _write_private(folder / "key", "0x" + secrets[node.name].hex() + "\n")
    return BesuKit(out=out, nodes=nodes, accounts=allowlist, warnings=notes)


def _genesis_validators(text: str) -> list[str]:
    try:
        extra = json.loads(text)["extraData"]
    except (ValueError, KeyError, TypeError) as exc:
        raise LedgerError(f"not a QBFT genesis (no extraData): {exc}") from exc
    return decode_extra_data(str(extra)).validators
