"""The verifier's view of the registry: the local event index, kept fresh from the node, with a
clear rule for when its data is too old to answer from.

Reads answer from the index (no node round-trip). ``refresh`` syncs it when it is older than
``sync_interval``; if the node is down, the index keeps answering until its data is older than
``max_stale``, after which chain checks report CHAIN_UNAVAILABLE (could not check)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ledger.errors import LedgerError, NodeUnavailable
from ledger.index import Freshness, RegistryIndex
from ledger.records import Anchor, Issuer, Province, Revocation, SealCertificate
from ledger.registry import Registry
from verifier.errors import WouldBlock

__all__ = ["ChainView"]

_SNAPSHOT_S = 0.25
_MEMO_MAX = 50_000


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
        self._snapshot: tuple[float, Freshness] | None = None
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._memo_version: tuple[int, datetime | None] | None = None

    def _freshness(self) -> Freshness:
        """The index's freshness, read at most every ``_SNAPSHOT_S`` (a verification asks for
        it three times; sub-second precision of the data's age changes no answer). When the
        indexed block moved (this process or another one sharing the file synced), the memo of
        registry facts is dropped."""
        now = time.monotonic()
        snapshot = self._snapshot
        if snapshot is not None and now - snapshot[0] < _SNAPSHOT_S:
            return snapshot[1]
        fresh = self.index.freshness()
        version = (fresh.block, fresh.block_time)
        if version != self._memo_version:
            self._memo = {}
            self._memo_version = version
        self._snapshot = (now, fresh)
        return fresh

    def _remember(self, key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
        """Registry facts shared by many certificates (issuers, provinces, agreements, seal
        certificates, batch roots) are read once per indexed block."""
        self._freshness()
        memo = self._memo
        if key in memo:
            return memo[key]
        value = read()
        if len(memo) < _MEMO_MAX:
            memo[key] = value
        return value

    def issuer(self, issuer_id: str) -> Issuer | None:
        found: Issuer | None = self._remember(
            ("issuer", issuer_id), lambda: self.index.issuer(issuer_id)
        )
        return found

    def province(self, code: str) -> Province | None:
        found: Province | None = self._remember(
            ("province", code), lambda: self.index.province(code)
        )
        return found

    def seal_certificate(self, fingerprint: bytes) -> SealCertificate | None:
        found: SealCertificate | None = self._remember(
            ("seal", fingerprint), lambda: self.index.seal_certificate(fingerprint)
        )
        return found

    def root_revocation(self, root: bytes) -> Revocation | None:
        found: Revocation | None = self._remember(
            ("root_revocation", root), lambda: self.index.root_revocation(root)
        )
        return found

    def certificate_revocation(self, root: bytes, leaf: bytes) -> Revocation | None:
        """Per certificate: always read from the index (a memo would only help repeats)."""
        return self.index.certificate_revocation(root, leaf)

    def is_recognised(self, verifying: str, issuing: str, cert_type: str) -> bool:
        return bool(
            self._remember(
                ("recognised", verifying, issuing, cert_type),
                lambda: self.index.is_recognised(verifying, issuing, cert_type),
            )
        )

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
            self._snapshot = None
            return self.node_up

    def age(self) -> float | None:
        return self._freshness().age_seconds()

    def usable(self) -> bool:
        """Whether the data is fresh enough to answer from."""
        age = self.age()
        return age is not None and (self.node_up or age <= self.max_stale)

    def freshness(self) -> dict[str, Any]:
        fresh = self._freshness()
        age = fresh.age_seconds()
        return {
            "block": fresh.block,
            "block_time": fresh.block_time.isoformat() if fresh.block_time else None,
            "synced_at": fresh.synced_at.isoformat() if fresh.synced_at else None,
            "age_seconds": round(age, 1) if age is not None else None,
            "node": "up" if self.node_up else "down",
            "source": "index",
        }

    def anchor_of(self, root: bytes, *, local_only: bool = False) -> Anchor | None:
        """From the index; a miss is confirmed on the node, since the root may be newer than
        the last sync. Raises ``NodeUnavailable`` if that confirmation is impossible, and
        ``WouldBlock`` if it is needed and ``local_only`` is set."""
        found: Anchor | None = self._remember(("anchor", root), lambda: self.index.anchor_of(root))
        if found is not None or self.registry is None:
            return found
        self._memo.pop(("anchor", root), None)  # a miss is confirmed below, never remembered
        if local_only:
            raise WouldBlock("anchor not in the index yet: ask the node")
        if not self.refresh(force=True):
            raise NodeUnavailable("cannot confirm a missing anchor: node unreachable")
        return self.index.anchor_of(root)

    def issuer_accounts(self, issuer_id: str) -> frozenset[str]:
        """Every chain account the issuer has acted through."""
        accounts: frozenset[str] = self._remember(
            ("accounts", issuer_id),
            lambda: frozenset(
                detail.lower()
                for _block, change, detail in self.index.issuer_history(issuer_id)
                if change in ("REGISTERED", "ACCOUNT_ROTATED")
            ),
        )
        return accounts

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)
