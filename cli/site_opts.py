"""Opening the issuing site the commands work on (``$ECERT_HOME``, keys unlocked from the
environment) and its store (``$ECERT_ISSUER_DB``, default a SQLite file in the home)."""

from __future__ import annotations

import os

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from cli.workspace import home
from issuer.site import Site
from issuer.store import open_store
from ledger.errors import LedgerError
from ledger.index import RegistryIndex
from ledger.keys import password_from_env
from ledger.registry import Registry

console = Console()
err = Console(stderr=True)


def open_site() -> Site:
    try:
        return Site(home(), password_from_env())
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


def store_url() -> str:
    return os.environ.get("ECERT_ISSUER_DB") or f"sqlite:///{home() / 'issuer.sqlite'}"


def open_sessions() -> sessionmaker[Session]:
    return open_store(store_url())


def synced_index(site: Site, name: str) -> tuple[RegistryIndex, Registry]:
    """The site's registry index ``$ECERT_HOME/<name>.sqlite``, synced from the node now
    (raises ``LedgerError``/``NodeUnavailable`` if the node cannot be read)."""
    registry = site.registry()
    index = RegistryIndex(
        home() / f"{name}.sqlite",
        registry_address=registry.address,
        start_block=site.network.deployment.deploy_block,
    )
    index.sync(registry)
    return index, registry
