"""EVM targets: the committed artifacts use no opcode their target's chain lacks (a walk over
the bytecode that steps over PUSH data), and the walk itself finds what it should."""

from __future__ import annotations

import pytest

from ledger.artifact import artifact_name, load_registry_artifact
from ledger.errors import ArtifactError
from ledger.evm import EVM_TARGETS, evm_target, foreign_opcodes, opcodes, strip_metadata

COMMITTED = ("london", "cancun")
"""Targets whose artifacts are committed and checked by ``make check-artifact``; the others
are built on demand (``make build EVM=paris``)."""


def _code(hex_code: str) -> bytes:
    return bytes.fromhex(hex_code.removeprefix("0x"))


def _init_and_runtime(evm: str) -> tuple[bytes, bytes]:
    artifact = load_registry_artifact(evm)
    creation, runtime = _code(artifact.bytecode), _code(artifact.deployed_bytecode)
    start = creation.index(runtime)  # creation code = constructor code, then the runtime code
    return creation[:start], runtime


def test_the_walk_steps_over_push_data() -> None:
    # PUSH2 0x5f5e, PUSH1 0x5c, then a real PUSH0 and MCOPY: only the last two are opcodes.
    code = bytes([0x61, 0x5F, 0x5E, 0x60, 0x5C, 0x5F, 0x5E])
    assert list(opcodes(code)) == [(0, 0x61), (3, 0x60), (5, 0x5F), (6, 0x5E)]
    assert foreign_opcodes(code, "london") == {"PUSH0": 1, "MCOPY": 1}
    assert foreign_opcodes(code, "shanghai") == {"MCOPY": 1}
    assert foreign_opcodes(code, "cancun") == {}
    # PUSH32 whose data is all forbidden bytes, and a truncated PUSH at the end.
    assert foreign_opcodes(bytes([0x7F, *[0x5F] * 32, 0x61, 0x5E]), "london") == {}
    assert foreign_opcodes(bytes([0x5C, 0x5D, 0x49, 0x4A, 0x48]), "london") == {
        "TLOAD": 1,
        "TSTORE": 1,
        "BLOBHASH": 1,
        "BLOBBASEFEE": 1,
    }


def test_metadata_is_data_not_code() -> None:
    metadata = bytes([0xA1, 0x64]) + b"solc" + bytes([0x43, 0x00, 0x08, 0x25])
    code = bytes([0x60, 0x80, 0x00]) + metadata + len(metadata).to_bytes(2, "big")
    assert strip_metadata(code) == bytes([0x60, 0x80, 0x00])
    assert strip_metadata(bytes([0x5F, 0x00, 0x01])) == bytes([0x5F, 0x00, 0x01])


@pytest.mark.parametrize("evm", COMMITTED)
def test_committed_artifact_runs_on_its_target(evm: str) -> None:
    init, runtime = _init_and_runtime(evm)
    assert foreign_opcodes(init, evm) == {}
    assert foreign_opcodes(runtime, evm) == {}
    assert len(strip_metadata(runtime)) < len(runtime) - 40  # solc's metadata found and skipped
    assert load_registry_artifact(evm).evm_version == evm


def test_london_code_has_no_push0_mcopy_or_transient_storage() -> None:
    init, runtime = _init_and_runtime("london")
    used = {op for code in (init, runtime) for _, op in opcodes(strip_metadata(code))}
    assert used.isdisjoint({0x5F, 0x5E, 0x5C, 0x5D})


def test_cancun_code_would_not_run_on_london() -> None:
    """The walk is not vacuous: the default build does use PUSH0, which London lacks."""
    init, runtime = _init_and_runtime("cancun")
    assert foreign_opcodes(runtime, "london").get("PUSH0", 0) > 0
    assert foreign_opcodes(init, "london").get("PUSH0", 0) > 0


def test_every_target_has_the_same_abi() -> None:
    abis = [load_registry_artifact(evm).abi for evm in COMMITTED]
    assert all(abi == abis[0] for abi in abis)


def test_the_target_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECERT_EVM", raising=False)
    assert evm_target() == "cancun"
    monkeypatch.setenv("ECERT_EVM", "london")
    assert evm_target() == "london"
    assert load_registry_artifact().evm_version == "london"
    monkeypatch.setenv("ECERT_EVM", "istanbul")
    with pytest.raises(ArtifactError, match="london, paris, shanghai, cancun"):
        evm_target()
    assert EVM_TARGETS[0] == "london"
    assert artifact_name("cancun") == "CertificateRegistry.json"
    assert artifact_name("paris") == "CertificateRegistry.paris.json"
