"""Where a registry lives: the small JSON file that lets every tool find the same deployment."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ledger.errors import LedgerError

__all__ = ["Deployment"]


@dataclass(frozen=True, slots=True)
class Deployment:
    """A registry deployment on one chain."""

    rpc_url: str | list[str]
    """The chain's node, or its nodes in the order to try them (the province's own first)."""
    chain_id: int
    registry_address: str
    deploy_block: int
    compiler_version: str

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", "utf-8")

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            return cls(**json.loads(path.read_text("utf-8")))
        except FileNotFoundError as exc:
            raise LedgerError(f"no deployment at {path}: deploy the registry first") from exc
        except (OSError, ValueError, TypeError) as exc:
            raise LedgerError(f"deployment file {path} is unreadable: {exc}") from exc
