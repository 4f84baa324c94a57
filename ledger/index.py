"""A local index of the registry, rebuilt from its events, so lookups need no node round-trip.

``RegistryIndex.sync`` reads new registry events from the node and applies them to a SQLite file;
every read answers from that file, together with how fresh it is (``freshness``). A verifier can
therefore keep answering while the node is briefly down, and say how old its data is.

A block is taken in only once ``confirmations`` blocks are built on it, so a chain that can
reorganise (proof of work, Clique, a test node) rarely shows the index a block it later drops.
When it does, the next sync finds the last block the index holds that is still on the node's
chain (the hash of every block with a registry event is kept, and searched by halves), and
undoes everything after it: the journal beyond that block is dropped and the state replayed
from the rest, with no node round-trip per event, before the sync carries on along the node's
chain. Only when no such block is left (a reset dev chain) or the index does not hold its whole
journal (it was loaded from a trust bundle) is it emptied and rebuilt from the deployment block,
and an index file written in an older shape (``SCHEMA_VERSION``) is rebuilt the same way.

Anchors and their revocations are keyed by (issuer, root), as in the contract: the same root
anchored by two issuers is two anchors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.chain import Chain, translate_errors
from ledger.index_events import Event, EventDecoder, apply_event
from ledger.index_reads import IndexReads
from ledger.index_schema import (
    DATA_TABLES,
    SCHEMA_VERSION,
    SNAPSHOT_COLUMNS,
    SNAPSHOT_TABLES,
    WHOLE_JOURNAL,
    Column,
)
from ledger.index_snapshots import IndexSnapshots
from ledger.index_store import Freshness
from ledger.registry import Registry

__all__ = [
    "SCHEMA_VERSION",
    "SNAPSHOT_COLUMNS",
    "Column",
    "Freshness",
    "RegistryIndex",
    "SyncResult",
]


@dataclass(frozen=True, slots=True)
class SyncResult:
    from_block: int
    """First block read from the node."""
    to_block: int
    """Last block the sync meant to apply (the node's head less ``confirmations``)."""
    events: int
    """Events applied."""
    rebuilt: bool
    """The index was emptied and rebuilt from the deployment block."""
    head: int = -1
    """The node's head block when the sync began."""
    kept_block: int | None = None
    """After a reorganisation: the last indexed block still on the node's chain (everything
    after it was undone); ``None`` when the chain held everything the index had."""
    events_undone: int = 0
    """Events undone because their blocks left the node's chain."""


class RegistryIndex(IndexReads, IndexSnapshots):
    """SQLite-backed mirror of one registry deployment."""

    def __init__(
        self,
        path: Path | str,
        *,
        registry_address: str,
        start_block: int = 0,
        confirmations: int = 0,
    ) -> None:
        if confirmations < 0:
            raise ValueError("confirmations must be 0 or more")
        super().__init__(path, registry_address=registry_address, start_block=start_block)
        self.confirmations = confirmations
        """Blocks that must be built on a block before the index takes it in (0: the head)."""

    def sync(
        self, registry: Registry, *, to_block: int | None = None, chunk: int = 2_000
    ) -> SyncResult:
        """Apply every registry event up to ``to_block`` (default and at most: the node's head
        less ``confirmations``), first undoing any blocks the node's chain no longer holds.
        Raises ``NodeUnavailable`` if the node cannot be reached; the index is then left as it
        was, or at a consistent earlier block of the node's chain."""
        if registry.address != self.registry_address:
            raise ValueError("registry does not match this index")
        chain = registry.chain
        decoder = EventDecoder(registry)
        with self._sync_lock:
            head = chain.block_number()
            last, kept, undone, rebuilt = self._follow_the_chain(chain, decoder, head)
            target = head - self.confirmations
            if to_block is not None:
                target = min(to_block, target)
            start = max(last + 1, self.start_block)
            events, moved = self._catch_up(chain, decoder, start, target, last, chunk)
            with self._lock:
                self._set_meta("chain_id", str(chain.chain_id))
                if not moved:  # else the data is not as of now: the next sync says when it is
                    self._set_meta("synced_at", datetime.now(UTC).isoformat())
        return SyncResult(
            from_block=start,
            to_block=target,
            events=events,
            rebuilt=rebuilt,
            head=head,
            kept_block=kept,
            events_undone=undone,
        )

    # ------------------------------------------------------------------ reorganisations

    def _follow_the_chain(
        self, chain: Chain, decoder: EventDecoder, head: int
    ) -> tuple[int, int | None, int, bool]:
        """Make the index a prefix of the node's chain. Returns ``(last block, kept block,
        events undone, rebuilt)``."""
        last = self.freshness().block
        with self._lock:
            last_hash = self._meta("last_block_hash")
            whole = self._meta(WHOLE_JOURNAL) is not None
        if last < 0 or last_hash is None or _on_chain(chain, head, last, bytes.fromhex(last_hash)):
            return last, None, 0, False
        kept = self._last_block_on_chain(chain, head, below=last) if whole else None
        if kept is None:
            self._reset()
            return -1, None, 0, True
        undone = self._undo_after(kept, decoder, expected_last=last)
        if undone is None:  # another process sharing the file moved it meanwhile
            return self.freshness().block, None, 0, False
        return kept, kept, undone, False

    def _last_block_on_chain(self, chain: Chain, head: int, *, below: int) -> int | None:
        """The highest block with events below ``below`` whose hash the node's chain still
        has. A block's hash covers all before it, so those on the chain are a prefix of the
        list: halving finds the last in about log2(n) node round-trips."""
        rows = self._all("SELECT block, hash FROM blocks WHERE block < ? ORDER BY block", (below,))
        low, high, found = 0, len(rows) - 1, None
        while low <= high:
            middle = (low + high) // 2
            block, block_hash = int(rows[middle][0]), bytes(rows[middle][1])
            if _on_chain(chain, head, block, block_hash):
                found, low = block, middle + 1
            else:
                high = middle - 1
        return found

    def _undo_after(self, kept: int, decoder: EventDecoder, *, expected_last: int) -> int | None:
        """Drop every event after block ``kept`` and replay the state from the journal left,
        in one transaction. Returns how many events were dropped, or ``None`` (nothing done)
        if the index is no longer at ``expected_last``."""
        with self._transaction() as db:
            done = self._meta("last_block")
            if int(done if done is not None else -1) != expected_last:
                return None
            undone = db.execute("DELETE FROM journal WHERE block > ?", (kept,)).rowcount
            db.execute("DELETE FROM blocks WHERE block > ?", (kept,))
            for table in SNAPSHOT_TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            journal = db.execute(
                "SELECT j.block, j.log_index, j.tx_hash, j.event, j.args, b.timestamp "
                "FROM journal j JOIN blocks b ON b.block = j.block ORDER BY j.block, j.log_index"
            ).fetchall()
            for block, log_index, tx_hash, name, args, timestamp in journal:
                event = decoder.from_journal(block, log_index, tx_hash, name, args)
                apply_event(db, event, int(timestamp))
            kept_hash, kept_time = db.execute(
                "SELECT hash, timestamp FROM blocks WHERE block = ?", (kept,)
            ).fetchone()
            self._set_meta("last_block", str(kept))
            self._set_meta("last_block_hash", bytes(kept_hash).hex())
            self._set_meta("last_block_time", str(int(kept_time)))
        return int(undone)

    def _reset(self) -> None:
        with self._transaction() as db:
            for table in DATA_TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            db.execute("DELETE FROM meta WHERE key NOT IN ('registry_address', 'schema_version')")

    # ------------------------------------------------------------------ catching up

    def _catch_up(
        self, chain: Chain, decoder: EventDecoder, start: int, target: int, last: int, chunk: int
    ) -> tuple[int, bool]:
        """Apply the events of blocks ``start``..``target`` in chunks, each in one transaction
        on top of exactly the block before it: the chunk's first block must name the indexed
        tip as its parent. A chunk whose blocks changed while it was read, or that does not
        continue the indexed tip, is left for the next sync (which then finds the
        reorganisation). Returns the events applied and whether the chain moved under it."""
        events, position, applied = 0, start, last
        while position <= target:
            end = min(position + chunk - 1, target)
            tip = chain.block(end)
            first = tip if position == end else chain.block(position)
            with translate_errors("get_logs"):
                logs = chain.w3.eth.get_logs(
                    {"address": self.registry_address, "fromBlock": position, "toBlock": end}
                )
            decoded = [e for e in (decoder.decode(log) for log in logs) if e is not None]
            blocks = _blocks_of(chain, decoded)
            if blocks is None or bytes(chain.block(end)["hash"]) != bytes(tip["hash"]):
                return events, True
            with self._transaction() as db:
                # Another process sharing this file may have moved on meanwhile: apply only on
                # top of exactly the block this batch starts after.
                done = self._meta("last_block")
                if int(done if done is not None else -1) != applied:
                    break
                if applied < 0:
                    self._set_meta(WHOLE_JOURNAL, "1")
                elif (
                    position == applied + 1
                    and self._meta("last_block_hash") != bytes(first["parentHash"]).hex()
                ):
                    return events, True
                db.executemany(
                    "INSERT OR REPLACE INTO blocks VALUES (?, ?, ?)",
                    [(n, block_hash, ts) for n, (block_hash, ts) in blocks.items()],
                )
                for entry in decoded:
                    apply_event(db, entry, blocks[entry.block][1])
                    events += 1
                self._set_meta("last_block", str(end))
                self._set_meta("last_block_hash", bytes(tip["hash"]).hex())
                self._set_meta("last_block_time", str(int(tip["timestamp"])))
            position, applied = end + 1, end
        return events, False


def _on_chain(chain: Chain, head: int, block: int, block_hash: bytes) -> bool:
    return block <= head and bytes(chain.block(block)["hash"]) == block_hash


def _blocks_of(chain: Chain, events: list[Event]) -> dict[int, tuple[bytes, int]] | None:
    """Hash and timestamp of each block the events are in, or ``None`` if the node's block
    is no longer the one a log came from (the chain reorganised while we read it)."""
    found: dict[int, tuple[bytes, int]] = {}
    for event in events:
        if event.block not in found:
            block: Any = chain.block(event.block)
            found[event.block] = (bytes(block["hash"]), int(block["timestamp"]))
        if found[event.block][0] != event.block_hash:
            return None
    return found
