"""Delta trust bundles: what changed between the state of an earlier bundle (the *base*,
named by its block and identity) and a signed checkpoint, and applying one to an index that
holds the base — in one transaction that commits only if the result is exactly the state the
checkpoint names."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from itertools import pairwise
from typing import Any

from ledger.bundle_changes import Changes, compose, difference
from ledger.bundle_checkpoint import (
    BundleRejected,
    Checkpoint,
    Refusal,
    checkpoint_json,
    decode_tables,
    encode_tables,
    hexed_tables,
    index_meta,
)
from ledger.bundle_full import TrustBundle
from ledger.bundle_legacy import LegacyBundle
from ledger.errors import LedgerError
from ledger.index import RegistryIndex

__all__ = ["DeltaBundle", "apply_delta", "chain_deltas"]


@dataclass(frozen=True)
class DeltaBundle:
    """What changed between the state of an earlier bundle (the base) and a checkpoint."""

    checkpoint: Checkpoint
    """The state the delta leads to (signed as a full bundle of that state is)."""
    base_block: int
    base_digest: bytes
    """Identity (checkpoint digest) of the state the delta applies to."""
    encoded_changes: bytes = field(repr=False)
    """Rows removed and rows added per table, canonically encoded (two sections)."""

    @property
    def registry(self) -> str:
        return self.checkpoint.registry

    @property
    def chain_id(self) -> int:
        return self.checkpoint.chain_id

    @property
    def block(self) -> int:
        return self.checkpoint.block

    @property
    def block_hash(self) -> str:
        return self.checkpoint.block_hash

    @property
    def block_time(self) -> int:
        return self.checkpoint.block_time

    @property
    def as_of(self) -> datetime:
        return self.checkpoint.as_of

    def digest(self) -> bytes:
        return self.checkpoint.digest()

    def message(self) -> bytes:
        return self.checkpoint.message()

    def identity(self) -> bytes:
        return self.checkpoint.digest()

    @cached_property
    def changes(self) -> Changes:
        removed, added = decode_tables(self.encoded_changes, 2)
        return Changes(removed, added)

    @classmethod
    def between(cls, base: TrustBundle | LegacyBundle, target: TrustBundle) -> DeltaBundle:
        """The delta from ``base`` (a full bundle, either format) to ``target``."""
        if base.block > target.block:
            raise LedgerError(f"the base (block {base.block}) is newer than {target.block}")
        return cls.from_changes(
            target.checkpoint, base.block, base.identity(), difference(base.tables, target.tables)
        )

    @classmethod
    def from_changes(
        cls, checkpoint: Checkpoint, base_block: int, base_digest: bytes, changes: Changes
    ) -> DeltaBundle:
        return cls(
            checkpoint, base_block, base_digest, encode_tables([changes.removed, changes.added])
        )

    def body(self, *, rows: bool = True) -> dict[str, Any]:
        changes = self.changes
        return {
            **checkpoint_json(self.checkpoint, "delta"),
            "base": {"block": self.base_block, "digest": self.base_digest.hex()},
            "changes": {t: {"removed": r, "added": a} for t, (r, a) in changes.counts().items()},
            **(
                {"removed": hexed_tables(changes.removed), "added": hexed_tables(changes.added)}
                if rows
                else {}
            ),
        }


def chain_deltas(steps: Sequence[DeltaBundle]) -> DeltaBundle:
    """One delta from the base of ``steps[0]`` to the state of ``steps[-1]`` (each step must
    start from the state the one before leads to)."""
    for before, after in pairwise(steps):
        if after.base_digest != before.identity():
            raise LedgerError(f"the delta to block {after.block} does not follow {before.block}")
    first, last = steps[0], steps[-1]
    return DeltaBundle.from_changes(
        last.checkpoint, first.base_block, first.base_digest, compose([s.changes for s in steps])
    )


def apply_delta(delta: DeltaBundle, index: RegistryIndex) -> TrustBundle:
    """Apply a verified ``delta`` to ``index`` (holding its base) in one transaction that
    commits only if the result is exactly the state the delta's checkpoint names; returns
    the full bundle of that state. ``BundleRejected`` (``DELTA``, or ``FORMAT`` for changes
    that are not canonically encoded) leaves the index as it was."""
    changes = delta.changes
    result: list[TrustBundle] = []

    def check(_meta: dict[str, str], tables: dict[str, list[list[Any]]]) -> None:
        full = TrustBundle.from_tables(delta.checkpoint, tables)
        if full.checkpoint.state != delta.checkpoint.state:
            raise BundleRejected(
                Refusal.DELTA,
                f"the delta to block {delta.block} does not give the state its checkpoint names",
            )
        result.append(full)

    try:
        index.apply_changes(
            {t: r for t, r in changes.removed.items() if r},
            {t: r for t, r in changes.added.items() if r},
            index_meta(delta.checkpoint),
            delta.as_of,
            check,
        )
    except (ValueError, TypeError, sqlite3.Error) as exc:
        raise BundleRejected(Refusal.DELTA, f"the delta does not apply: {exc}") from exc
    return result[0]
