"""A local index of the registry, rebuilt from its events, so lookups need no node round-trip.

``RegistryIndex.sync`` reads new registry events from the node and applies them to a SQLite file;
every read answers from that file, together with how fresh it is (``freshness``). A verifier can
therefore keep answering while the node is briefly down, and say how old its data is. If the
node's chain no longer contains the last block we indexed (a reset dev chain), the index
rebuilds itself from the deployment block instead of mixing two histories, and an index file
written in an older shape (``SCHEMA_VERSION``) is emptied and rebuilt the same way.

Anchors and their revocations are keyed by (issuer, root), as in the contract: the same root
anchored by two issuers is two anchors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ledger.chain import translate_errors
from ledger.index_events import EventDecoder, apply_event
from ledger.index_reads import IndexReads
from ledger.index_schema import DATA_TABLES, SCHEMA_VERSION, SNAPSHOT_COLUMNS, Column
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
    to_block: int
    events: int
    rebuilt: bool


class RegistryIndex(IndexReads, IndexSnapshots):
    """SQLite-backed mirror of one registry deployment."""

    def sync(
        self, registry: Registry, *, to_block: int | None = None, chunk: int = 2_000
    ) -> SyncResult:
        """Apply every registry event up to ``to_block`` (default: latest). Raises
        ``NodeUnavailable`` if the node cannot be reached; the index is then left as it was."""
        if registry.address != self.registry_address:
            raise ValueError("registry does not match this index")
        chain = registry.chain
        rebuilt = False
        with self._sync_lock:
            last = self.freshness().block
            with self._lock:
                last_hash = self._meta("last_block_hash")
            if last >= 0 and last_hash is not None:
                node_block = chain.block(last) if last <= chain.block_number() else None
                if node_block is None or bytes(node_block["hash"]).hex() != last_hash:
                    self._reset()
                    last, rebuilt = -1, True
            head = chain.block_number() if to_block is None else to_block
            start = max(last + 1, self.start_block)
            events = 0
            decoder = EventDecoder(registry)
            position, applied = start, last
            while position <= head:
                end = min(position + chunk - 1, head)
                with translate_errors("get_logs"):
                    logs = chain.w3.eth.get_logs(
                        {"address": registry.address, "fromBlock": position, "toBlock": end}
                    )
                block_times: dict[int, int] = {}
                decoded = [decoder.decode(log) for log in logs]
                for entry in decoded:
                    if entry is not None and entry.block not in block_times:
                        block_times[entry.block] = int(chain.block(entry.block)["timestamp"])
                tip = chain.block(end)
                with self._transaction() as db:
                    # Another process sharing this file may have moved on meanwhile: apply
                    # only on top of exactly the block this batch starts after.
                    done = self._meta("last_block")
                    if int(done if done is not None else -1) != applied:
                        break
                    for entry in decoded:
                        if entry is not None:
                            apply_event(db, entry, block_times[entry.block])
                            events += 1
                    self._set_meta("last_block", str(end))
                    self._set_meta("last_block_hash", bytes(tip["hash"]).hex())
                    self._set_meta("last_block_time", str(int(tip["timestamp"])))
                position = end + 1
                applied = end
            with self._lock:
                self._set_meta("chain_id", str(chain.chain_id))
                self._set_meta("synced_at", datetime.now(UTC).isoformat())
        return SyncResult(from_block=start, to_block=head, events=events, rebuilt=rebuilt)

    def _reset(self) -> None:
        with self._transaction() as db:
            for table in DATA_TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            db.execute("DELETE FROM meta WHERE key NOT IN ('registry_address', 'schema_version')")
