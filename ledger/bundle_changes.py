"""What changed between two registry snapshots, as rows removed and rows added per table, and
a chain of such changes folded into one.

Every table is treated alike: a row that changed (an issuer suspended, a recognition withdrawn,
a seal revocation moved earlier, a seal certificate given its end block) is its old row removed
and its new row added; the tables that only grow (anchors, revocations, issuer history) only
ever have rows added. Rows are compared whole, as multisets (a table without a primary key
could hold a row twice)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.bundle_codec import Tables
from ledger.index import SNAPSHOT_COLUMNS

__all__ = ["Changes", "compose", "difference"]

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Changes:
    removed: dict[str, list[Row]]
    """Table → rows of the base that are not in the target."""
    added: dict[str, list[Row]]
    """Table → rows of the target that are not in the base."""

    def counts(self) -> dict[str, tuple[int, int]]:
        """Table → (rows removed, rows added), for the tables that changed."""
        return {
            t: (len(self.removed.get(t, ())), len(self.added.get(t, ())))
            for t in SNAPSHOT_COLUMNS
            if self.removed.get(t) or self.added.get(t)
        }


def _split(net: dict[str, Counter[Row]]) -> Changes:
    removed = {t: [r for r, n in c.items() if n < 0 for _ in range(-n)] for t, c in net.items()}
    added = {t: [r for r, n in c.items() if n > 0 for _ in range(n)] for t, c in net.items()}
    return Changes(removed, added)


def difference(base: Tables, target: Tables) -> Changes:
    """The changes that turn ``base`` into ``target``."""
    net: dict[str, Counter[Row]] = {}
    for table in SNAPSHOT_COLUMNS:
        count: Counter[Row] = Counter(map(tuple, target.get(table, ())))
        count.subtract(map(tuple, base.get(table, ())))
        net[table] = count
    return _split(net)


def compose(steps: Sequence[Changes]) -> Changes:
    """One set of changes with the effect of ``steps`` applied in order (each to the result
    of the one before): a row added and removed again within the chain is in neither."""
    net: dict[str, Counter[Row]] = {t: Counter() for t in SNAPSHOT_COLUMNS}
    for step in steps:
        for table, rows in step.removed.items():
            net[table].subtract(map(tuple, rows))
        for table, rows in step.added.items():
            net[table].update(map(tuple, rows))
    return _split(net)
