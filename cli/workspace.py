"""Where the command line keeps its files, ``$ECERT_HOME`` (default ``./.ecert``), and the
local addresses a home uses unless told otherwise: the chain on 127.0.0.1:8545, the issuer
service on 8600, and the n-th province's verifier on 8801 + n (ZJ 8801, JS 8802, GD 8803 in the
demo), the URL its certificates' QR codes open."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from ledger.failover import RPC_ENV

__all__ = [
    "DEFAULT_CHAIN_PORT",
    "FIRST_VERIFIER_PORT",
    "RPC_ENV",
    "chain_dir",
    "home",
    "local_port",
    "local_verifier_url",
    "shown",
]

DEFAULT_CHAIN_PORT = 8545
FIRST_VERIFIER_PORT = 8801
"""The chain node to use instead of the one the home's configuration names (``--rpc`` wins);
several separated by commas (or spaces), tried in order."""


def home() -> Path:
    return Path(os.environ.get("ECERT_HOME", ".ecert")).resolve()


def chain_dir() -> Path:
    return home() / "chain"


def local_verifier_url(position: int) -> str:
    """The verifier page of the province at ``position`` (0-based) in a home's network."""
    return f"http://127.0.0.1:{FIRST_VERIFIER_PORT + position}"


def local_port(url: str) -> int | None:
    """The port of ``url`` if it is an http address on this machine's loopback, else ``None``
    (a real host is not ours to listen for)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost"):
        return None
    return port or 80


def shown(path: Path) -> str:
    """``path`` as a person would type it here: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
