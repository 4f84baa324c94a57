"""What every trust bundle shares: the formats and limits, the refusal codes, and the
**checkpoint** the provinces sign — registry, chain, block (number, hash, time) and the SHA-256
of the canonically encoded state (``ledger.bundle_codec``) — with the helpers that turn a
bundle's tables into that encoding and back."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from typing import Any

from ledger.bundle_codec import EncodingRefused, Tables, decode_sections, encode_sections, uvarint
from ledger.errors import LedgerError

__all__ = [
    "DEFAULT_QUORUM",
    "FORMAT",
    "JSON_FORMAT",
    "MAGIC",
    "MAX_BUNDLE_BYTES",
    "MAX_BUNDLE_DEPTH",
    "BundleRejected",
    "Checkpoint",
    "Refusal",
]

FORMAT = "ecert-trust-bundle/3"
JSON_FORMAT = "ecert-trust-bundle/2"
"""The canonical-JSON format before: still read (full bundles only)."""
SIGNATURE_FORMAT = "ecert-trust-bundle-signature/1"
MAGIC = b"ECTB\x03"
"""First bytes of a format-3 file."""
DOMAIN = b"ecert-trust-bundle/3\n"
JSON_DOMAIN = b"ecert-trust-bundle/2\n"
KIND_FULL, KIND_DELTA = b"F", b"D"
DEFAULT_QUORUM = Fraction(2, 3)
"""Signers must be strictly more than this share of all provinces."""
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
MAX_BUNDLE_DEPTH = 16
"""A format-2 bundle nests 5 deep (bundle → tables → table → row → cell)."""


class Refusal(StrEnum):
    """Why a bundle is refused (stable codes)."""

    FORMAT = "FORMAT"
    """Not a bundle we read, or one whose tables do not fit the index."""
    REGISTRY = "REGISTRY"
    """For another registry or chain."""
    UNKNOWN_SIGNER = "UNKNOWN_SIGNER"
    """Signed by someone who is not a province authority with a known key."""
    QUORUM = "QUORUM"
    """Not enough provinces signed."""
    STALE = "STALE"
    """Older than the newest bundle accepted."""
    EQUIVOCATION = "EQUIVOCATION"
    """Another state for the block of a bundle accepted before."""
    BASE = "BASE"
    """A delta from a state this verifier does not hold."""
    SIGNATURE = "SIGNATURE"
    """The aggregate signature does not verify."""
    DELTA = "DELTA"
    """A delta that does not apply to its base, or does not give the state it names."""
    NO_KEYS = "NO_KEYS"
    """Nothing to check with yet (the registry was never read)."""
    UNAVAILABLE = "UNAVAILABLE"
    """The source could not be read."""


class BundleRejected(LedgerError):
    """A bundle that must not be used; ``reason`` is a ``Refusal`` code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hash32(hex_text: str) -> bytes:
    raw = bytes.fromhex(hex_text.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError("a block hash is 32 bytes")
    return raw


def address_bytes(text: str) -> bytes:
    raw = bytes.fromhex(text.removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError("an address is 20 bytes")
    return raw


@dataclass(frozen=True)
class Checkpoint:
    """What the provinces sign: the registry's state at one block."""

    registry: str
    """Address of the registry contract (checksummed)."""
    chain_id: int
    block: int
    block_hash: str
    """Hex, as the index keeps it."""
    block_time: int
    """Unix time of ``block``."""
    state: bytes
    """SHA-256 of the canonical encoding of the tables at ``block``."""

    def encode(self) -> bytes:
        name = FORMAT.encode("ascii")
        return b"".join(
            (
                uvarint(len(name)),
                name,
                address_bytes(self.registry),
                uvarint(self.chain_id),
                uvarint(self.block),
                hash32(self.block_hash),
                uvarint(self.block_time),
                self.state,
            )
        )

    @cached_property
    def _digest(self) -> bytes:
        return sha256(self.encode())

    def digest(self) -> bytes:
        return self._digest

    def message(self) -> bytes:
        """What each province signs: a domain tag and the digest."""
        return DOMAIN + self.digest()

    @property
    def as_of(self) -> datetime:
        return datetime.fromtimestamp(self.block_time, UTC)


def hexed_tables(tables: Tables) -> dict[str, list[list[Any]]]:
    return {
        t: [[c.hex() if isinstance(c, bytes) else c for c in row] for row in rows]
        for t, rows in tables.items()
        if rows
    }


def decode_tables(data: bytes, count: int) -> list[dict[str, list[tuple[Any, ...]]]]:
    try:
        return decode_sections(data, count)
    except EncodingRefused as exc:
        raise BundleRejected(Refusal.FORMAT, f"bundle tables are malformed: {exc}") from exc


def encode_tables(sections: Sequence[Tables]) -> bytes:
    try:
        return encode_sections(sections)
    except EncodingRefused as exc:
        raise BundleRejected(Refusal.FORMAT, f"bundle tables do not fit the index: {exc}") from exc


def index_meta(checkpoint: Checkpoint) -> dict[str, str]:
    return {
        "last_block": str(checkpoint.block),
        "last_block_hash": checkpoint.block_hash,
        "last_block_time": str(checkpoint.block_time),
    }


def checkpoint_json(checkpoint: Checkpoint, kind: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "kind": kind,
        "registry": checkpoint.registry,
        "chain_id": checkpoint.chain_id,
        "block": checkpoint.block,
        "block_hash": checkpoint.block_hash,
        "block_time": checkpoint.block_time,
        "state": checkpoint.state.hex(),
        "digest": checkpoint.digest().hex(),
    }
