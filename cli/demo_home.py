"""The demo builds its network in ``$ECERT_HOME`` itself, so every command works on it as it is.

A home is the demo's when it holds the marker ``made-by-demo.txt`` (written before anything
else, so a run that failed half-way is still the demo's) and no network that the demo did not
make (``network.json`` without ``"demo": true``). A second run on the demo's home stops the
home's chain and rebuilds from scratch, keeping only the password file and the holder's wallet.
Any other home that holds something is refused and left exactly as it was: the demo never
replaces a network, keys or files it did not make."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from issuer.site import NetworkConfig
from ledger.errors import LedgerError
from ledger.node import AnvilNode

__all__ = ["KEPT", "MARKER", "prepare_home"]

MARKER = "made-by-demo.txt"
KEPT = frozenset({"demo-password", "wallet"})
"""What a rebuild keeps: the password file ``make demo`` writes, and the holder's wallet key."""

_MARKER_TEXT = (
    "Made by 'ecert demo' (make demo). A second 'make demo' rebuilds this folder from scratch:\n"
    "it stops its chain and removes everything here but demo-password and wallet/.\n"
)


def _kept(home: Path) -> set[str]:
    kept = set(KEPT)
    password_file = os.environ.get("ECERT_KEY_PASSWORD_FILE")
    if password_file and Path(password_file).resolve().parent == home:
        kept.add(Path(password_file).name)
    return kept


def _old_demo(entry: Path) -> bool:
    """The folder an earlier version of the demo built in (``$ECERT_HOME/demo``)."""
    return entry.name == "demo" and (entry / "network.json").is_file()


def prepare_home(home: Path) -> list[str]:
    """Make ``home`` ready for a new demo network and mark it as the demo's; returns the names
    of the entries removed. ``LedgerError`` (nothing touched) if it holds anything the demo
    did not make."""
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    kept = _kept(home)
    entries = sorted(p for p in home.iterdir() if p.name not in kept)
    if (home / MARKER).is_file():
        network = home / "network.json"
        if network.exists() and not NetworkConfig.load(network).demo:
            raise LedgerError(
                f"{network} is a network the demo did not make: the demo never replaces one. "
                "Run it with ECERT_HOME set to another folder."
            )
        AnvilNode(home / "chain").stop()  # the chain 'ecert chain up' brought back, if any
    else:
        foreign = [p.name for p in entries if not _old_demo(p)]
        if foreign:
            raise LedgerError(
                f"{home} holds {', '.join(foreign)}, which the demo did not make: it leaves "
                "them alone. Run it with ECERT_HOME set to another folder, or move them away."
            )
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    (home / MARKER).write_text(_MARKER_TEXT, "utf-8")
    return [p.name for p in entries]
