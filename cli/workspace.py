"""Where the command line keeps its files: ``$ECERT_HOME`` (default ``./.ecert``)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["chain_dir", "home"]


def home() -> Path:
    return Path(os.environ.get("ECERT_HOME", ".ecert")).resolve()


def chain_dir() -> Path:
    return home() / "chain"
