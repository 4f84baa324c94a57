"""A full trust bundle: the whole registry state at one block, canonically encoded."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from web3 import Web3

from ledger.bundle_checkpoint import (
    BundleRejected,
    Checkpoint,
    Refusal,
    checkpoint_json,
    decode_tables,
    encode_tables,
    hash32,
    hexed_tables,
    index_meta,
    sha256,
)
from ledger.bundle_codec import Tables
from ledger.errors import LedgerError
from ledger.index import RegistryIndex

__all__ = ["TrustBundle"]


@dataclass(frozen=True)
class TrustBundle:
    """A full bundle: the whole state at one block."""

    registry: str
    """Address of the registry contract the snapshot is of (checksummed)."""
    chain_id: int
    block: int
    block_hash: str
    block_time: int
    """Unix time of ``block``."""
    state: bytes = field(repr=False)
    """The tables, canonically encoded: what the checkpoint's ``state`` is the SHA-256 of."""

    @cached_property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(
            self.registry,
            self.chain_id,
            self.block,
            self.block_hash,
            self.block_time,
            sha256(self.state),
        )

    def digest(self) -> bytes:
        """The checkpoint's digest: what the provinces sign (the message of)."""
        return self.checkpoint.digest()

    def message(self) -> bytes:
        return self.checkpoint.message()

    def identity(self) -> bytes:
        """Which state this is (the checkpoint digest, whatever the format or kind)."""
        return self.checkpoint.digest()

    @property
    def as_of(self) -> datetime:
        return datetime.fromtimestamp(self.block_time, UTC)

    @cached_property
    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """The tables (BLOB cells as bytes), decoded on first use: ``FORMAT`` if they are not
        canonically encoded."""
        (tables,) = decode_tables(self.state, 1)
        return tables

    @classmethod
    def from_tables(
        cls, checkpoint_fields: Checkpoint | Mapping[str, Any], tables: Tables
    ) -> TrustBundle:
        """A bundle of ``tables`` with the registry and block of ``checkpoint_fields`` (a
        checkpoint, whose ``state`` is ignored, or a mapping of its fields)."""
        if isinstance(checkpoint_fields, Checkpoint):
            c = checkpoint_fields
            fields = (c.registry, c.chain_id, c.block, c.block_hash, c.block_time)
        else:
            f = checkpoint_fields
            fields = (f["registry"], f["chain_id"], f["block"], f["block_hash"], f["block_time"])
        registry, chain_id, block, block_hash, block_time = fields
        hash32(str(block_hash))  # refused here rather than when first signed
        return cls(
            Web3.to_checksum_address(registry),
            int(chain_id),
            int(block),
            str(block_hash),
            int(block_time),
            encode_tables([tables]),
        )

    @classmethod
    def from_index(cls, index: RegistryIndex, chain_id: int) -> TrustBundle:
        meta, tables = index.export_tables()
        if "last_block" not in meta:
            raise LedgerError("the index has not synced yet: nothing to bundle")
        return cls.from_tables(
            {
                "registry": index.registry_address,
                "chain_id": chain_id,
                "block": int(meta["last_block"]),
                "block_hash": meta["last_block_hash"],
                "block_time": int(meta["last_block_time"]),
            },
            tables,
        )

    def load_into(self, index: RegistryIndex) -> None:
        """Make ``index`` answer as the registry did at ``block`` (the bundle must have been
        verified first)."""
        tables = self.tables
        try:
            index.import_tables(
                index_meta(self.checkpoint),
                {t: [list(r) for r in rows] for t, rows in tables.items()},
                synced_at=self.as_of,
            )
        except (ValueError, TypeError, sqlite3.Error) as exc:
            raise BundleRejected(
                Refusal.FORMAT, f"bundle tables do not fit the index: {exc}"
            ) from exc

    def provinces(self) -> list[str]:
        return [str(row[0]) for row in self.tables.get("provinces", [])]

    def body(self, *, rows: bool = True) -> dict[str, Any]:
        """The JSON form, for people (``rows=False``: row counts instead of rows)."""
        return {
            **checkpoint_json(self.checkpoint, "full"),
            "tables": hexed_tables(self.tables)
            if rows
            else {t: len(r) for t, r in self.tables.items() if r},
        }
