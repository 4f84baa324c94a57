"""Format-2 trust bundles (canonical JSON, BLOB cells as hex; the format before the binary
one): still read, and verified as they were signed — over the JSON — while installed and
known by the identity of the same state in format 3."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from ledger.bundle_checkpoint import (
    JSON_DOMAIN,
    JSON_FORMAT,
    BundleRejected,
    Checkpoint,
    Refusal,
    sha256,
)
from ledger.bundle_full import TrustBundle
from ledger.index import SNAPSHOT_COLUMNS, RegistryIndex

__all__ = ["LegacyBundle"]


@dataclass(frozen=True)
class LegacyBundle:
    """A format-2 bundle (canonical JSON, BLOB cells as hex), verified as it was signed."""

    json_body: Mapping[str, Any] = field(repr=False)

    @cached_property
    def _canonical(self) -> bytes:
        return json.dumps(
            self.json_body, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")

    def digest(self) -> bytes:
        return sha256(self._canonical)

    def message(self) -> bytes:
        return JSON_DOMAIN + self.digest()

    @cached_property
    def current(self) -> TrustBundle:
        """The same state as a format-3 bundle (unsigned): what it is installed and known as."""
        blobs = {
            t: {i for i, c in enumerate(cols) if c.kind == "BLOB"}
            for t, cols in SNAPSHOT_COLUMNS.items()
        }
        try:
            tables = {
                t: [
                    [
                        bytes.fromhex(c) if i in blobs[t] and c is not None else c
                        for i, c in enumerate(r)
                    ]
                    for r in rows
                ]
                for t, rows in self.json_body["tables"].items()
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BundleRejected(Refusal.FORMAT, f"bundle tables are malformed: {exc}") from exc
        return TrustBundle.from_tables(self.json_body, tables)

    @property
    def checkpoint(self) -> Checkpoint:
        return self.current.checkpoint

    def identity(self) -> bytes:
        """The checkpoint digest of the same state in format 3 (what deltas and peers name)."""
        return self.current.digest()

    @property
    def registry(self) -> str:
        return str(self.json_body["registry"])

    @property
    def chain_id(self) -> int:
        return int(self.json_body["chain_id"])

    @property
    def block(self) -> int:
        return int(self.json_body["block"])

    @property
    def block_hash(self) -> str:
        return str(self.json_body["block_hash"])

    @property
    def block_time(self) -> int:
        return int(self.json_body["block_time"])

    @property
    def as_of(self) -> datetime:
        return datetime.fromtimestamp(self.block_time, UTC)

    @property
    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        return self.current.tables

    def load_into(self, index: RegistryIndex) -> None:
        self.current.load_into(index)

    def provinces(self) -> list[str]:
        return self.current.provinces()

    def body(self, *, rows: bool = True) -> dict[str, Any]:
        shown = dict(self.json_body)
        if not rows:
            shown["tables"] = {t: len(r) for t, r in self.json_body["tables"].items() if r}
        return {**shown, "digest": self.digest().hex()}

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> LegacyBundle:
        try:
            if body["format"] != JSON_FORMAT:
                raise BundleRejected(Refusal.FORMAT, f"not a trust bundle: {body['format']!r}")
            tables = body["tables"]
            if not isinstance(tables, dict) or not all(
                isinstance(rows, list) and all(isinstance(r, list) for r in rows)
                for rows in tables.values()
            ):
                raise BundleRejected(Refusal.FORMAT, "bundle tables are malformed")
            bundle = cls(dict(body))
            for value in (bundle.chain_id, bundle.block, bundle.block_time):
                if value < 0:
                    raise ValueError("negative numbers in the header")
            bundle.registry.encode("ascii")
            return bundle
        except (AttributeError, KeyError, OverflowError, TypeError, ValueError) as exc:
            raise BundleRejected(Refusal.FORMAT, f"bundle is malformed: {exc}") from exc
