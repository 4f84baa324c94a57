"""``ecert chain up|down|status``: the local anvil node."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from cli.workspace import chain_dir
from ledger.errors import LedgerError
from ledger.node import DEFAULT_CHAIN_ID, AnvilNode

app = typer.Typer(help="Run the local chain node (anvil on 127.0.0.1, state kept on disk).")
console = Console()

Port = Annotated[int, typer.Option(help="TCP port on 127.0.0.1.")]


def _node(port: int) -> AnvilNode:
    return AnvilNode(chain_dir(), port=port, chain_id=DEFAULT_CHAIN_ID)


@app.command()
def up(port: Port = 8545) -> None:
    """Start the node in the background; its state survives restarts."""
    node = _node(port)
    try:
        info = node.start(detach=True)
    except LedgerError as exc:
        console.print(f"[red]链节点未能启动 / could not start the node:[/] {exc}")
        raise typer.Exit(2) from exc
    console.print(f"链节点已启动 / node up: {info.rpc_url} chain id {info.chain_id} pid {info.pid}")
    console.print(f"state: {info.state_file}")


@app.command()
def down(port: Port = 8545) -> None:
    """Stop the node started by ``ecert chain up``."""
    if _node(port).stop():
        console.print("链节点已停止 / node stopped")
    else:
        console.print("没有运行中的节点 / no node was running")


@app.command()
def status(port: Port = 8545) -> None:
    """Say whether the node answers; exit 0 if it does, 1 if not."""
    info = _node(port).status()
    if info.running:
        console.print(f"运行中 / running: {info.rpc_url} chain id {info.chain_id} pid {info.pid}")
        return
    console.print(f"未运行 / not running ({info.rpc_url})")
    raise typer.Exit(1)
