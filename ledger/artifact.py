"""The compiled registry contract (ABI and bytecode) as committed in ``ledger/abi``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ledger.errors import ArtifactError

__all__ = ["RegistryArtifact", "load_registry_artifact"]


@dataclass(frozen=True, slots=True)
class RegistryArtifact:
    """ABI, creation bytecode and provenance of the compiled ``CertificateRegistry``."""

    abi: list[dict[str, Any]]
    bytecode: str
    compiler_version: str
    source_sha256: str


@cache
def load_registry_artifact() -> RegistryArtifact:
    """Read ``ledger/abi/CertificateRegistry.json`` (written by ``make build``)."""
    try:
        raw = resources.files("ledger").joinpath("abi/CertificateRegistry.json").read_text("utf-8")
        data = json.loads(raw)
        return RegistryArtifact(
            abi=data["abi"],
            bytecode=data["bytecode"],
            compiler_version=data["compiler"]["version"],
            source_sha256=data["sourceSha256"],
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"cannot load the registry artifact: {exc}") from exc
