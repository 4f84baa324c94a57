"""The verifier's view of the registry: the local event index, kept fresh from the node, with a
clear rule for when its data is too old to answer from.

Reads answer from the index (no node round-trip). ``refresh`` syncs it when it is older than
``sync_interval``; if the node is down, the index keeps answering until its data is older than
``max_stale``, after which chain checks report CHAIN_UNAVAILABLE (could not check)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from ledger.errors import LedgerError, NodeUnavailable
from ledger.index import RegistryIndex
from ledger.records import Anchor
from ledger.registry import Registry

__all__ = ["ChainView"]


class ChainView:
    def __init__(
        self,
        index: RegistryIndex,
        registry: Registry | None,
        *,
        sync_interval: float = 2.0,
        max_stale: float = 300.0,
    ) -> None:
        self.index = index
        self.registry = registry
        self.sync_interval = sync_interval
        self.max_stale = max_stale
        self.node_up = registry is not None
        self._last_attempt = 0.0
        self._lock = threading.Lock()

    def refresh(self, *, force: bool = False) -> bool:
        """Sync if due; returns whether the node answered."""
        if self.registry is None:
            return False
        with self._lock:
            if not force and time.monotonic() - self._last_attempt < self.sync_interval:
                return self.node_up
            self._last_attempt = time.monotonic()
            try:
                self.index.sync(self.registry)
                self.node_up = True
            except (NodeUnavailable, LedgerError):
                self.node_up = False
            return self.node_up

    def age(self) -> float | None:
        return self.index.freshness().age_seconds()

    def usable(self) -> bool:
        """Whether the data is fresh enough to answer from."""
        age = self.age()
        return age is not None and (self.node_up or age <= self.max_stale)

    def freshness(self) -> dict[str, Any]:
        fresh = self.index.freshness()
        age = fresh.age_seconds()
        return {
            "block": fresh.block,
            "block_time": fresh.block_time.isoformat() if fresh.block_time else None,
            "synced_at": fresh.synced_at.isoformat() if fresh.synced_at else None,
            "age_seconds": round(age, 1) if age is not None else None,
            "node": "up" if self.node_up else "down",
            "source": "index",
        }

    def anchor_of(self, root: bytes) -> Anchor | None:
        """From the index; a miss is confirmed on the node, since the root may be newer than
        the last sync. Raises ``NodeUnavailable`` if that confirmation is impossible."""
        found = self.index.anchor_of(root)
        if found is not None or self.registry is None:
            return found
        if not self.refresh(force=True):
            raise NodeUnavailable("cannot confirm a missing anchor: node unreachable")
        return self.index.anchor_of(root)

    def issuer_accounts(self, issuer_id: str) -> set[str]:
        """Every chain account the issuer has acted through."""
        return {
            detail.lower()
            for _block, change, detail in self.index.issuer_history(issuer_id)
            if change in ("REGISTERED", "ACCOUNT_ROTATED")
        }

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)
