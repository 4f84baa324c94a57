"""The verifier's view of the registry: the local event index, kept fresh from the node, with a
clear rule for when its data is too old to answer from — and a signed trust bundle to fall back
on when no node can be reached.

Reads answer from the index (no node round-trip). ``refresh`` syncs it when it is older than
``sync_interval``. If the node is down, the index keeps answering until its data is older than
``max_stale``; after that the newest verified trust bundle answers ("offline, data as of block
N"), if there is one recent enough; otherwise chain checks report CHAIN_UNAVAILABLE (could not
check). A root missing from the bundle cannot be confirmed, so a certificate anchored after the
bundle is INDETERMINATE, never INVALID."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.chain import Chain
from ledger.errors import LedgerError, NodeUnavailable
from ledger.index import Freshness, RegistryIndex
from ledger.records import Anchor, Issuer, Province, Revocation, SealCertificate
from ledger.registry import Registry
from verifier.bundles import BundleStore
from verifier.errors import WouldBlock

__all__ = ["ChainView"]


@dataclass(frozen=True, slots=True)
class _Source:
    kind: str
    """``index`` (live), ``bundle`` (offline) or ``none`` (too old to answer from)."""
    index: RegistryIndex
    fresh: Freshness


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
        self._last_attempt = 0.0
        self._lock = threading.Lock()
        self._snapshot: tuple[float, _Source] | None = None
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._memo_version: tuple[str, int, datetime | None] | None = None

    def _source(self) -> _Source:
        """Which data answers now, read at most every ``_SNAPSHOT_S`` (a verification asks
        several times; sub-second precision of the data's age changes no answer). When the
        source or its block changes (a sync here or in another process sharing the file, a new
        bundle), the memo of registry facts is dropped."""
        now = time.monotonic()
        snapshot = self._snapshot
        if snapshot is not None and now - snapshot[0] < _SNAPSHOT_S:
            return snapshot[1]
        fresh = self.index.freshness()
        age = fresh.age_seconds()
        source = _Source("index", self.index, fresh)
        live_ok = age is not None and (self.node_up or age <= self.max_stale)
        if self.disagreement is not None:
            source = _Source("none", self.index, fresh)  # report it; answer from neither side
        elif not live_ok:
            offline = self.bundles.current() if self.bundles is not None else None
            if offline is not None:
                source = _Source("bundle", offline, offline.freshness())
            elif age is None or age > self.max_stale:
                source = _Source("none", self.index, fresh)
        version = (source.kind, source.fresh.block, source.fresh.block_time)
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

    def seal_certificate(self, fingerprint: bytes) -> SealCertificate | None:
        found: SealCertificate | None = self._remember(
            ("seal", fingerprint), lambda: self._reader().seal_certificate(fingerprint)
        )
        return found

    def root_revocation(self, root: bytes) -> Revocation | None:
        found: Revocation | None = self._remember(
            ("root_revocation", root), lambda: self._reader().root_revocation(root)
        )
        return found

    def certificate_revocation(self, root: bytes, leaf: bytes) -> Revocation | None:
        """Per certificate: always read from the index (a memo would only help repeats)."""
        return self._reader().certificate_revocation(root, leaf)

    def is_recognised(self, verifying: str, issuing: str, cert_type: str) -> bool:
        return bool(
            self._remember(
                ("recognised", verifying, issuing, cert_type),
                lambda: self._reader().is_recognised(verifying, issuing, cert_type),
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
            if self.node_up and self.witnesses:
                self.disagreement = self._cross_check()
            self._snapshot = None
            return self.node_up

    def _cross_check(self) -> str | None:
        """Ask the witness nodes for the block the index is at: the read stands only if at
        least ``read_quorum`` nodes (the primary counts as one) have that very block hash.
        A node that is behind, down, or on another chain does not confirm; the disagreement
        is reported, never resolved by picking a side."""
        fresh = self.index.freshness()
        meta_hash = self.index.block_hash()
        if fresh.block < 0 or meta_hash is None:
            return None
        confirmed, views = 1, []
        for witness in self.witnesses:
            try:
                head = witness.block_number()
                if head < fresh.block:
                    views.append(f"{witness.description}: behind block {fresh.block}")
                    continue
                if head > fresh.block + self.max_lag_blocks:
                    views.append(
                        f"{witness.description}: at block {head}, the primary only at "
                        f"{fresh.block} (missing blocks?)"
                    )
                    continue
                seen = bytes(witness.block(fresh.block)["hash"]).hex()
            except (NodeUnavailable, LedgerError) as exc:
                views.append(f"{witness.description}: unreachable ({exc})")
                continue
            if seen == meta_hash:
                confirmed += 1
            else:
                views.append(f"{witness.description}: block {fresh.block} is 0x{seen[:16]}…")
        if confirmed >= self.read_quorum:
            return None
        return (
            f"{confirmed} of {1 + len(self.witnesses)} nodes confirm block {fresh.block} "
            f"(0x{meta_hash[:16]}…), {self.read_quorum} needed; " + "; ".join(views)
        )

    def usable(self) -> bool:
        """Whether there is data fresh enough to answer from (the index or a bundle)."""
        return self._source().kind != "none"

    @property
    def offline(self) -> bool:
        """Whether answers come from a trust bundle."""
        return self._source().kind == "bundle"

    def freshness(self) -> dict[str, Any]:
        source = self._source()
        fresh = source.fresh
        age = fresh.age_seconds()
        return {
            "block": fresh.block,
            "block_time": fresh.block_time.isoformat() if fresh.block_time else None,
            "synced_at": fresh.synced_at.isoformat() if fresh.synced_at else None,
            "age_seconds": round(age, 1) if age is not None else None,
            "node": "up" if self.node_up else "down",
            "source": "bundle" if source.kind == "bundle" else "index",
            "offline": source.kind == "bundle",
            "disagreement": self.disagreement,
        }

    def anchor_of(self, root: bytes, *, local_only: bool = False) -> Anchor | None:
        """From the index; a miss is confirmed on the node, since the root may be newer than
        the last sync. Raises ``NodeUnavailable`` if that confirmation is impossible, and
        ``WouldBlock`` if it is needed and ``local_only`` is set."""
        found: Anchor | None = self._remember(
            ("anchor", root), lambda: self._reader().anchor_of(root)
        )
        if found is not None or self.registry is None:
            return found
        self._memo.pop(("anchor", root), None)  # a miss is confirmed below, never remembered
        if local_only:
            raise WouldBlock("anchor not in the index yet: ask the node")
        if not self.refresh(force=True):
            source = self._source()
            where = (
                f"not in the trust bundle (as of block {source.fresh.block})"
                if source.kind == "bundle"
                else "cannot confirm a missing anchor"
            )
            raise NodeUnavailable(f"{where}: node unreachable")
        return self.index.anchor_of(root)

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

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)
