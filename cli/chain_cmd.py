"""``ecert chain up|down|status``: the home's local anvil node.

A home has one chain, kept in ``$ECERT_HOME/chain``. It listens where the home's configuration
(``network.json``, ``verifier.json``) says when that is a port on 127.0.0.1, so after the demo
``ecert chain up`` brings the demo's chain back with its state; else on 8545. ``--port`` moves
it: the configurations are rewritten to name the new port, and said so."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli.workspace import DEFAULT_CHAIN_PORT, chain_dir, home, local_port, shown
from issuer.site import NetworkConfig
from ledger.errors import LedgerError
from ledger.failover import rpc_urls
from ledger.node import DEFAULT_CHAIN_ID, AnvilNode
from verifier.config import VerifierConfig

app = typer.Typer(help="Run the local chain node (anvil on 127.0.0.1, state kept on disk).")
console = Console()

Port = Annotated[
    int | None,
    typer.Option(
        help="TCP port on 127.0.0.1 (default: the one the home's network.json names, else 8545)."
    ),
]


def _network() -> NetworkConfig | None:
    path = home() / "network.json"
    try:
        return NetworkConfig.load(path) if path.is_file() else None
    except LedgerError:
        return None


def _verifier() -> VerifierConfig | None:
    path = home() / "verifier.json"
    try:
        return VerifierConfig.load(path) if path.is_file() else None
    except LedgerError:
        return None


def _port(configured: str | list[str]) -> int | None:
    """The loopback port of the (first) node a configuration names."""
    try:
        return local_port(rpc_urls(configured)[0])
    except LedgerError:
        return None


def _single_local(configured: str | list[str]) -> int | None:
    return _port(configured) if isinstance(configured, str) and "," not in configured else None


def _configured() -> tuple[int | None, int]:
    """The loopback port and chain id the home's configuration names (port ``None``: none)."""
    network = _network()
    if network is not None:
        return _port(network.deployment.rpc_url), network.deployment.chain_id
    settings = _verifier()
    return (_port(settings.rpc_url) if settings else None), DEFAULT_CHAIN_ID


def _node(port: int | None) -> AnvilNode:
    configured, chain_id = _configured()
    return AnvilNode(chain_dir(), port=port or configured or DEFAULT_CHAIN_PORT, chain_id=chain_id)


def _follow(port: int) -> list[Path]:
    """Rewrite the home's configurations that name one node, on another loopback port, to name
    ``port`` (a list of nodes is someone's deliberate set-up: left alone); returns the files
    rewritten."""
    url = f"http://127.0.0.1:{port}"
    rewritten = []
    network = _network()
    if network is not None and _single_local(network.deployment.rpc_url) not in (None, port):
        deployment = replace(network.deployment, rpc_url=url)
        replace(network, deployment=deployment).save(home() / "network.json")
        rewritten.append(home() / "network.json")
    settings = _verifier()
    if settings is not None and _single_local(settings.rpc_url) not in (None, port):
        replace(settings, rpc_url=url).save(home() / "verifier.json")
        rewritten.append(home() / "verifier.json")
    return rewritten


@app.command()
def up(port: Port = None) -> None:
    """Start the node in the background; its state survives restarts."""
    node = _node(port)
    try:
        info = node.start(detach=True)
    except LedgerError as exc:
        console.print(f"[red]链节点未能启动 / could not start the node:[/] {exc}")
        raise typer.Exit(2) from exc
    console.print(f"链节点已启动 / node up: {info.rpc_url} chain id {info.chain_id} pid {info.pid}")
    console.print(f"state: {shown(info.state_file)}")
    for path in _follow(node.port):
        console.print(f"{shown(path)} now names {info.rpc_url}")


@app.command()
def down(port: Port = None) -> None:
    """Stop the node started by ``ecert chain up``."""
    if _node(port).stop():
        console.print("链节点已停止 / node stopped")
    else:
        console.print("没有运行中的节点 / no node was running")


@app.command()
def status(port: Port = None) -> None:
    """Say whether the node answers; exit 0 if it does, 1 if not."""
    info = _node(port).status()
    if info.running:
        console.print(f"运行中 / running: {info.rpc_url} chain id {info.chain_id} pid {info.pid}")
        return
    console.print(f"未运行 / not running ({info.rpc_url})")
    raise typer.Exit(1)
