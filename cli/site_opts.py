"""Opening the issuing site the commands work on (``$ECERT_HOME``, keys unlocked from the
environment) and its store (``$ECERT_ISSUER_DB``, default a SQLite file in the home).

The node a command talks to is ``--rpc``, else ``$ECERT_RPC_URL``, else the one the home's
``network.json`` names; an override is used for that command only, never saved. Each may name
several nodes of the chain, tried in order (``--rpc A --rpc B``, ``--rpc A,B``,
``ECERT_RPC_URL="A,B"``). Public reads (``open_network``) need no key password."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from cli.workspace import RPC_ENV, home
from issuer.site import NetworkConfig, Site
from issuer.store import open_store
from ledger.chain import Chain
from ledger.errors import LedgerError
from ledger.failover import RpcUrls
from ledger.index import RegistryIndex
from ledger.keys import password_from_env
from ledger.registry import Registry

console = Console()
err = Console(stderr=True)

RpcOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--rpc",
        envvar=RPC_ENV,
        show_envvar=True,
        help="The chain node (default: the one the home's configuration names); several nodes "
        "of the chain, tried in order when one is down: repeat --rpc or separate with commas, "
        "the province's own nodes first.",
    ),
]


def open_site(rpc: RpcUrls | None = None) -> Site:
    try:
        return Site(home(), password_from_env(), rpc_url=rpc)
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


def open_network() -> NetworkConfig:
    """The home's ``network.json``: provinces, departments, the deployment (no keys)."""
    try:
        return NetworkConfig.load(home() / "network.json")
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


def network_registry(network: NetworkConfig, rpc: RpcUrls | None = None) -> Registry:
    """The network's registry contract, read through ``rpc`` or the deployment's node."""
    deployment = network.deployment
    return Registry(Chain.connect(rpc or deployment.rpc_url), deployment.registry_address)


def store_url() -> str:
    return os.environ.get("ECERT_ISSUER_DB") or f"sqlite:///{home() / 'issuer.sqlite'}"


def open_sessions() -> sessionmaker[Session]:
    return open_store(store_url())


def synced_index(
    network: NetworkConfig, name: str, rpc: RpcUrls | None = None
) -> tuple[RegistryIndex, Registry]:
    """The network's registry index ``$ECERT_HOME/<name>.sqlite``, synced from the node now
    (raises ``LedgerError``/``NodeUnavailable`` if the node cannot be read)."""
    registry = network_registry(network, rpc)
    index = RegistryIndex(
        home() / f"{name}.sqlite",
        registry_address=registry.address,
        start_block=network.deployment.deploy_block,
        confirmations=network.confirmations,
    )
    index.sync(registry)
    return index, registry
