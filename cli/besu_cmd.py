"""``ecert network besu-config``: the kit for running the consortium chain on Hyperledger Besu
with QBFT (README, "Running the consortium on Besu QBFT").

    ecert network besu-config --validators 4 --out besu-kit [--province ZJ:浙江省 …]
        [--p2p-host ZJ=10.0.1.5] [--chain-id 31330] [--evm london] [--genesis FILE]

Writes ``genesis.json``, ``permissions_config.toml``, ``nodes.json`` (public) and a folder per
node (``config.toml``, its private ``key``: hand that folder to the province that runs the
node, and to no one else). Exit 0 written, 2 usage error or nothing written.

    ecert network check-code [--evm london] [--rpc URL]

Checks the deployed registry is the committed build byte for byte (exit 0 yes, 1 no, 2 could
not check)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.site_opts import RpcOpt, console, err, network_registry, open_network
from cli.workspace import home
from issuer.besu_home import kit_inputs
from issuer.besu_kit import build_besu_kit
from issuer.qbft import QbftTiming
from ledger.artifact import load_registry_artifact
from ledger.errors import LedgerError
from ledger.evm import evm_target
from ledger.keys import KeyStore, password_from_env
from ledger.node import DEFAULT_CHAIN_ID


def _pairs(entries: list[str] | None, option: str, sep: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for entry in entries or []:
        key, _, value = entry.partition(sep)
        if not key or not value:
            raise LedgerError(f"{option} {entry!r}: write CODE{sep}VALUE")
        pairs[key] = value
    return pairs


def besu_config(
    validators: Annotated[int, typer.Option("--validators", help="How many validator nodes.")],
    out: Annotated[str, typer.Option("--out", help="A new (or empty) folder for the kit.")],
    province: Annotated[
        list[str] | None,
        typer.Option(
            "--province",
            help="CODE:NAME of a province that runs a node, beyond those in network.json "
            "(repeatable; needed before 'ecert network init').",
        ),
    ] = None,
    p2p_host: Annotated[
        list[str] | None,
        typer.Option(
            "--p2p-host", help="CODE=IP where that province's nodes meet peers (default 127.0.0.1)."
        ),
    ] = None,
    chain_id: Annotated[int, typer.Option("--chain-id")] = DEFAULT_CHAIN_ID,
    evm: Annotated[
        str | None,
        typer.Option(
            "--evm",
            help="EVM milestone: london, paris, shanghai, cancun (default: "
            "$ECERT_EVM, else cancun); the registry must be built for it.",
        ),
    ] = None,
    block_period: Annotated[int, typer.Option("--block-period", help="Seconds.")] = 2,
    request_timeout: Annotated[int, typer.Option("--request-timeout", help="Seconds.")] = 4,
    epoch: Annotated[int, typer.Option("--epoch", help="Blocks between vote resets.")] = 30_000,
    joining: Annotated[
        Path | None,
        typer.Option(
            "--genesis",
            help="The running chain's genesis.json: keep it (nodes joining that chain) instead "
            "of writing a new one.",
        ),
    ] = None,
) -> None:
    """Write a Besu QBFT genesis, allowlists and per-node configuration for the consortium."""
    try:
        extra = list(_pairs(province, "--province", ":"))
        existing = joining.read_text("utf-8") if joining else None
        keys = KeyStore(home() / "keys", password_from_env())
        inputs = kit_inputs(home(), keys, extra)
        kit = build_besu_kit(
            keys,
            Path(out).resolve(),
            provinces=inputs.provinces,
            validators=validators,
            accounts=inputs.accounts,
            chain_id=chain_id,
            evm=evm_target(evm),
            hosts=_pairs(p2p_host, "--p2p-host", "="),
            timing=QbftTiming(block_period, request_timeout, epoch),
            existing_genesis=existing,
        )
    except OSError as exc:
        err.print(f"[red]cannot read {joining}: {exc.strerror}[/]")
        raise typer.Exit(2) from exc
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    table = Table(title=f"Besu QBFT kit in {kit.out} ({evm_target(evm)}, chain {chain_id})")
    for column in ("node", "run by", "role", "address", "JSON-RPC"):
        table.add_column(column)
    for node in kit.nodes:
        role = "validator" if node.validator else "member"
        table.add_row(node.name, node.province, role, node.address, f"127.0.0.1:{node.rpc_port}")
    console.print(table)
    console.print(f"{len(kit.accounts)} accounts allowlisted; enodes in {kit.out / 'nodes.json'}")
    for note in [*kit.warnings, *inputs.notes]:
        err.print(f"[yellow]warning:[/] {note}")
    console.print(
        "Send each node's folder to the province that runs it (it holds the node's private "
        "key); start it there with: besu --config-file=config.toml"
    )


def check_code(
    evm: Annotated[
        str | None, typer.Option("--evm", help="The build to expect (default: $ECERT_EVM).")
    ] = None,
    rpc: RpcOpt = None,
) -> None:
    """Check that the registry the home's network.json names runs the committed build, byte for
    byte (public: no key password). Exit 0 it does, 1 it does not, 2 could not check."""
    network = open_network()
    try:
        target = evm_target(evm)
        artifact = load_registry_artifact(target)
        registry = network_registry(network, rpc)
        same = registry.runs_build(target)
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    if not same:
        console.print(f"[red]the code at {registry.address} is not the {target} build[/]")
        raise typer.Exit(1)
    console.print(
        f"registry {registry.address} runs the {target} build (solc {artifact.compiler_version}, "
        f"source sha256 {artifact.source_sha256[:16]}…)"
    )
