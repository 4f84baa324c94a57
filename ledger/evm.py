"""The EVM rules the registry is compiled for and the local chain runs: one target an operator
chooses (``ECERT_EVM``: london, paris, shanghai or cancun; default cancun), and a bytecode walk
that lists the opcodes a target's chain would not know.

Consortium chains (Besu QBFT, Quorum) often run rules older than mainnet's. Each fork only adds
opcodes, so code compiled for a target runs on that fork and every later one; code that uses an
opcode from a later fork fails on the older chain the first time that path runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from ledger.errors import ArtifactError

__all__ = [
    "DEFAULT_EVM",
    "EVM_TARGETS",
    "INTRODUCED",
    "evm_target",
    "foreign_opcodes",
    "opcodes",
    "strip_metadata",
]

EVM_TARGETS = ("london", "paris", "shanghai", "cancun")
"""The targets, oldest first (each fork's rules include the ones before it)."""
DEFAULT_EVM = "cancun"

INTRODUCED: dict[int, tuple[str, str]] = {
    0x48: ("BASEFEE", "london"),
    0x5F: ("PUSH0", "shanghai"),
    0x49: ("BLOBHASH", "cancun"),
    0x4A: ("BLOBBASEFEE", "cancun"),
    0x5C: ("TLOAD", "cancun"),
    0x5D: ("TSTORE", "cancun"),
    0x5E: ("MCOPY", "cancun"),
}
"""Opcodes added from London on: byte -> (name, fork that added it). Paris added none (it
renamed DIFFICULTY to PREVRANDAO, same byte)."""

_PUSH1, _PUSH32 = 0x60, 0x7F


def evm_target(value: str | None = None) -> str:
    """The chosen target: ``value``, else ``$ECERT_EVM``, else ``DEFAULT_EVM``; refuses a name
    outside ``EVM_TARGETS``."""
    chosen = (value if value is not None else os.environ.get("ECERT_EVM", "")) or DEFAULT_EVM
    if chosen not in EVM_TARGETS:
        raise ArtifactError(f"EVM target {chosen!r}: choose one of {', '.join(EVM_TARGETS)}")
    return chosen


def strip_metadata(code: bytes) -> bytes:
    """``code`` without the CBOR metadata solc appends (its length is the last two bytes):
    those bytes are data, not instructions."""
    if len(code) < 2:
        return code
    length = int.from_bytes(code[-2:], "big")
    end = len(code) - 2 - length
    # solc's metadata is a CBOR map (0xa1..0xb7 for up to 23 entries); anything else: no metadata.
    if end < 0 or not 0xA1 <= code[end] <= 0xB7:
        return code
    return code[:end]


def opcodes(code: bytes) -> Iterator[tuple[int, int]]:
    """``(offset, opcode)`` for each instruction of ``code``, stepping over PUSH data."""
    pc = 0
    while pc < len(code):
        op = code[pc]
        yield pc, op
        pc += 1 + (op - _PUSH1 + 1 if _PUSH1 <= op <= _PUSH32 else 0)


def foreign_opcodes(code: bytes, target: str) -> dict[str, int]:
    """Opcodes in ``code`` (metadata stripped) that a chain running ``target`` rules does not
    have: name -> how many times. Empty means the code can run there."""
    rank = EVM_TARGETS.index(evm_target(target))
    found: dict[str, int] = {}
    for _, op in opcodes(strip_metadata(code)):
        entry = INTRODUCED.get(op)
        if entry is not None and EVM_TARGETS.index(entry[1]) > rank:
            found[entry[0]] = found.get(entry[0], 0) + 1
    return found
