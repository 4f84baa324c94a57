"""The compiled registry contract (ABI and bytecode) as committed in ``ledger/abi``, one file
per EVM target (``ledger.evm``): ``CertificateRegistry.json`` for the default (cancun),
``CertificateRegistry.<evm>.json`` for another (``make build EVM=<evm>`` writes it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ledger.errors import ArtifactError
from ledger.evm import DEFAULT_EVM, evm_target

__all__ = ["RegistryArtifact", "artifact_name", "load_registry_artifact"]


@dataclass(frozen=True, slots=True)
class RegistryArtifact:
    """ABI, creation bytecode and provenance of the compiled ``CertificateRegistry``."""

    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    """The runtime code the chain keeps (what ``eth_getCode`` answers after deployment)."""
    compiler_version: str
    source_sha256: str
    evm_version: str
    """The EVM rules the bytecode was compiled for (``ledger.evm.EVM_TARGETS``)."""


def artifact_name(evm: str) -> str:
    """The file under ``ledger/abi`` that holds the artifact for target ``evm``."""
    return "CertificateRegistry.json" if evm == DEFAULT_EVM else f"CertificateRegistry.{evm}.json"


@cache
def _load(evm: str) -> RegistryArtifact:
    name = artifact_name(evm)
    try:
        raw = resources.files("ledger").joinpath(f"abi/{name}").read_text("utf-8")
    except FileNotFoundError as exc:
        raise ArtifactError(
            f"no registry artifact for EVM target {evm} (ledger/abi/{name}): run "
            f"'make build EVM={evm}'"
        ) from exc
    except OSError as exc:
        raise ArtifactError(f"cannot load the registry artifact: {exc}") from exc
    try:
        data = json.loads(raw)
        artifact = RegistryArtifact(
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
            compiler_version=data["compiler"]["version"],
            source_sha256=data["sourceSha256"],
            evm_version=data["compiler"]["settings"]["evmVersion"],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"cannot load the registry artifact: {exc}") from exc
    if artifact.evm_version != evm:
        raise ArtifactError(f"ledger/abi/{name} was compiled for {artifact.evm_version}, not {evm}")
    return artifact


def load_registry_artifact(evm: str | None = None) -> RegistryArtifact:
    """The artifact for EVM target ``evm`` (default: the chosen one, ``ledger.evm.evm_target``).

    Every target's ABI is the same; only the bytecode differs."""
    return _load(evm_target(evm))
