"""The verifier's view of the registry: the local event index, kept fresh from the node, with a
clear rule for when its data is too old to answer from — and a signed trust bundle to fall back
on when no node can be reached.

Reads answer from the index (no node round-trip); ``refresh`` syncs it (the background syncer
calls it every second). Whether the index may answer is judged by the age of its data alone —
never by whether the node answered lately: once the last successful sync is older than
``max_stale``, the newest verified trust bundle answers ("offline, data as of block N") if there
is one recent enough, otherwise registry checks report CHAIN_UNAVAILABLE (could not check). A
root missing from the bundle cannot be confirmed, so a certificate anchored after the bundle is
INDETERMINATE, never INVALID. ``refresh`` never raises: every failure is counted in ``health``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ledger.chain import Chain
from ledger.errors import NodeUnavailable
from ledger.index import Freshness, RegistryIndex
from ledger.records import (
    Anchor,
    CaDistrust,
    Issuer,
    Province,
    Revocation,
    SealCertificate,
    SealRevocation,
)
from ledger.registry import Registry
from verifier.bundles import BundleStore
from verifier.errors import AnchorUnconfirmed, WouldBlock
from verifier.quorum import cross_check
from verifier.views import DataSource, FreshnessView, SyncHealth

__all__ = ["ChainView"]

log = logging.getLogger("ecert.verifier.sync")


@dataclass(frozen=True, slots=True)
class _Source:
    kind: DataSource
    index: RegistryIndex
    fresh: Freshness


_SNAPSHOT_S = 0.25
_MEMO_MAX = 50_000
_NEVER = Freshness(block=-1, block_time=None, synced_at=None)


class ChainView:
    def __init__(
        self,
        index: RegistryIndex,
        registry: Registry | None,
        *,
        sync_interval: float = 2.0,
        max_stale: float = 300.0,
        bundles: BundleStore | None = None,
        witnesses: Sequence[Chain] = (),
        read_quorum: int = 1,
        max_lag_blocks: int = 2,
    ) -> None:
        self.index = index
        self.bundles = bundles
        self.witnesses = list(witnesses)
        """Other provinces' nodes that must confirm what the index read (quorum reads)."""
        self.read_quorum = read_quorum
        """How many nodes, the primary included, must agree on the indexed block."""
        self.max_lag_blocks = max_lag_blocks
        """A witness this many blocks ahead of the primary means the primary is missing blocks."""
        self.disagreement: str | None = None
        """Why the nodes do not agree on what was read (then nothing is answered from it)."""
        self.registry = registry
        self.sync_interval = sync_interval
        self.max_stale = max_stale
        self.node_up = registry is not None
        """Whether the last attempt to reach the node succeeded (shown, never decisive)."""
        self.health = SyncHealth()
        self._last_attempt = 0.0
        self._lock = threading.Lock()
        self._snapshot: tuple[float, _Source] | None = None
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._memo_version: tuple[DataSource, int, datetime | None, str | None] | None = None

    def _index_freshness(self) -> Freshness:
        try:
            return self.index.freshness()
        except Exception as exc:  # an unreadable index cannot answer: say so, never raise
            log.warning("registry index unreadable: %s", type(exc).__name__)
            return _NEVER

    def _source(self) -> _Source:
        """Which data answers now, read at most every ``_SNAPSHOT_S`` (a verification asks
        several times; sub-second precision of the data's age changes no answer). When the
        source or its block changes (a sync here or in another process sharing the file, a new
        bundle), the memo of registry facts is dropped."""
        now = time.monotonic()
        snapshot = self._snapshot
        if snapshot is not None and now - snapshot[0] < _SNAPSHOT_S:
            return snapshot[1]
        fresh = self._index_freshness()
        age = fresh.age_seconds()
        source = _Source(DataSource.INDEX, self.index, fresh)
        if self.disagreement is not None:
            source = _Source(DataSource.NONE, self.index, fresh)  # answer from neither side
        elif age is None or age > self.max_stale:
            offline = self.bundles.current() if self.bundles is not None else None
            if offline is not None:
                source = _Source(DataSource.BUNDLE, offline, offline.freshness())
            else:
                source = _Source(DataSource.NONE, self.index, fresh)
        fresh = source.fresh
        version = (source.kind, fresh.block, fresh.block_time, fresh.block_hash)
        if version != self._memo_version:
            self._memo = {}
            self._memo_version = version
        self._snapshot = (now, source)
        return source

    def _reader(self) -> RegistryIndex:
        return self._source().index

    def _remember(self, key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
        """Registry facts shared by many certificates (issuers, provinces, agreements, seal
        certificates, batch roots) are read once per indexed block."""
        self._source()
        memo = self._memo
        if key in memo:
            return memo[key]
        value = read()
        if len(memo) < _MEMO_MAX:
            memo[key] = value
        return value

    def issuer(self, issuer_id: str) -> Issuer | None:
        found: Issuer | None = self._remember(
            ("issuer", issuer_id), lambda: self._reader().issuer(issuer_id)
        )
        return found

    def province(self, code: str) -> Province | None:
        found: Province | None = self._remember(
            ("province", code), lambda: self._reader().province(code)
        )
        return found

    def provinces(self) -> list[Province]:
        """Every province of the consortium, in the order they were admitted."""
        found: list[Province] = self._remember(("provinces",), lambda: self._reader().provinces())
        return found

    def seal_certificate(self, fingerprint: bytes) -> SealCertificate | None:
        found: SealCertificate | None = self._remember(
            ("seal", fingerprint), lambda: self._reader().seal_certificate(fingerprint)
        )
        return found

    def seal_certificate_at(self, issuer_id: str, block: int) -> SealCertificate | None:
        found: SealCertificate | None = self._remember(
            ("seal_at", issuer_id, block),
            lambda: self._reader().seal_certificate_at(issuer_id, block),
        )
        return found

    def seal_revocation(self, fingerprint: bytes) -> SealRevocation | None:
        found: SealRevocation | None = self._remember(
            ("seal_revocation", fingerprint), lambda: self._reader().seal_revocation(fingerprint)
        )
        return found

    def ca_distrust(self, fingerprint: bytes) -> CaDistrust | None:
        found: CaDistrust | None = self._remember(
            ("ca_distrust", fingerprint), lambda: self._reader().ca_distrust(fingerprint)
        )
        return found

    def root_revocation(self, issuer_id: str, root: bytes) -> Revocation | None:
        found: Revocation | None = self._remember(
            ("root_revocation", issuer_id, root),
            lambda: self._reader().root_revocation(issuer_id, root),
        )
        return found

    def certificate_revocation(self, issuer_id: str, root: bytes, leaf: bytes) -> Revocation | None:
        """Per certificate: always read from the index (a memo would only help repeats)."""
        return self._reader().certificate_revocation(issuer_id, root, leaf)

    def is_recognised(self, verifying: str, issuing: str, cert_type: str) -> bool:
        return bool(
            self._remember(
                ("recognised", verifying, issuing, cert_type),
                lambda: self._reader().is_recognised(verifying, issuing, cert_type),
            )
        )

    def refresh(self, *, force: bool = False) -> bool:
        """Sync if due; returns whether it succeeded. Never raises: whatever goes wrong (the
        node, a proxy in front of it, the index file) is counted in ``health`` and logged once
        per kind of failure until a sync succeeds again."""
        if self.registry is None:
            return False
        with self._lock:
            if not force and time.monotonic() - self._last_attempt < self.sync_interval:
                return self.node_up
            self._last_attempt = time.monotonic()
            at = datetime.now(UTC)
            try:
                self._choose_node(self.registry.chain)
                synced = self.index.sync(self.registry)
                disagreement = (
                    cross_check(
                        self.index,
                        self.witnesses,
                        read_quorum=self.read_quorum,
                        max_lag_blocks=self.max_lag_blocks,
                    )
                    if self.witnesses
                    else None
                )
            except Exception as exc:
                self._failed(at, exc)
            else:
                self.disagreement = disagreement
                if self.health.consecutive_failures:
                    log.warning(
                        "registry sync recovered after %d failed attempts",
                        self.health.consecutive_failures,
                    )
                if synced.kept_block is not None:
                    log.warning(
                        "the node's chain dropped indexed blocks: %d registry events after "
                        "block %d undone",
                        synced.events_undone,
                        synced.kept_block,
                    )
                self.health = replace(
                    self.health,
                    reorganisations_total=self.health.reorganisations_total
                    + (synced.kept_block is not None),
                    events_undone_total=self.health.events_undone_total + synced.events_undone,
                    last_success=at,
                    last_attempt=at,
                    consecutive_failures=0,
                    last_error=None,
                )
                self.node_up = True
            self._snapshot = None
            return self.node_up

    def _choose_node(self, chain: Chain) -> None:
        """Of several nodes, read from the first that is not far behind the others; and never
        from one whose head is below the registry's deployment (still syncing: it would not know
        a single anchor, and every certificate would look unanchored)."""
        chain.prefer_fresh(self.max_lag_blocks)
        head = chain.block_number()
        if head < self.index.start_block:
            raise NodeUnavailable(
                f"the node is at block {head}, before the registry's deployment "
                f"(block {self.index.start_block}): still syncing?"
            )

    def _failed(self, at: datetime, exc: Exception) -> None:
        kind = type(exc).__name__
        error = f"{kind}: {str(exc)[:200]}"
        previous = self.health.last_error or ""
        if not previous.startswith(f"{kind}:"):
            log.warning("registry sync failed: %s (retrying; answers follow the data's age)", error)
        else:
            log.debug("registry sync failed again: %s", error)
        self.node_up = False
        self.health = replace(
            self.health,
            last_attempt=at,
            consecutive_failures=self.health.consecutive_failures + 1,
            failures_total=self.health.failures_total + 1,
            last_error=error,
        )

    def usable(self) -> bool:
        """Whether there is data fresh enough to answer from (the index or a bundle)."""
        return self._source().kind is not DataSource.NONE

    @property
    def offline(self) -> bool:
        """Whether answers come from a trust bundle."""
        return self._source().kind is DataSource.BUNDLE

    def freshness(self) -> FreshnessView:
        source = self._source()
        fresh = source.fresh
        age = fresh.age_seconds()
        return FreshnessView(
            block=fresh.block,
            block_time=fresh.block_time.isoformat() if fresh.block_time else None,
            synced_at=fresh.synced_at.isoformat() if fresh.synced_at else None,
            age_seconds=round(age, 1) if age is not None else None,
            node="up" if self.node_up else "down",
            source=source.kind,
            offline=source.kind is DataSource.BUNDLE,
            disagreement=self.disagreement,
        )

    def anchor_of(self, issuer_id: str, root: bytes, *, local_only: bool = False) -> Anchor | None:
        """The anchor ``issuer_id`` recorded for ``root``, from the index; a miss is confirmed
        on the node, since the root may be newer than the last sync. Raises
        ``NodeUnavailable`` if that confirmation is impossible, and ``WouldBlock`` if it is
        needed and ``local_only`` is set. An anchor the node has in a block not yet
        ``confirmations`` deep raises ``AnchorUnconfirmed``."""
        key = ("anchor", issuer_id, root)
        found: Anchor | None = self._remember(
            key, lambda: self._reader().anchor_of(issuer_id, root)
        )
        if found is not None or self.registry is None:
            return found
        self._memo.pop(key, None)  # a miss is confirmed below, never remembered
        if local_only:
            raise WouldBlock("anchor not in the index yet: ask the node")
        if not self.refresh(force=True):
            source = self._source()
            where = (
                f"not in the trust bundle (as of block {source.fresh.block})"
                if source.kind is DataSource.BUNDLE
                else "cannot confirm a missing anchor"
            )
            raise NodeUnavailable(f"{where}: node unreachable")
        found = self.index.anchor_of(issuer_id, root)
        if found is None and self.index.confirmations > 0:
            pending = self.registry.anchor_of(issuer_id, root)  # at the node's head
            if pending is not None:
                raise AnchorUnconfirmed(
                    f"anchored in block {pending.block_number}; answered once "
                    f"{self.index.confirmations} blocks are built on it"
                )
        return found

    def issuer_accounts(self, issuer_id: str) -> frozenset[str]:
        """Every chain account the issuer has acted through."""
        accounts: frozenset[str] = self._remember(
            ("accounts", issuer_id),
            lambda: frozenset(
                detail.lower()
                for _block, change, detail in self._reader().issuer_history(issuer_id)
                if change in ("REGISTERED", "ACCOUNT_ROTATED")
            ),
        )
        return accounts
