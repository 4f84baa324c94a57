"""The registry index's SQLite file: connections (one writer, a reader per thread), write
transactions, the meta rows, and how fresh the data is. ``RegistryIndex`` builds on it."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from web3 import Web3

from ledger.index_schema import DATA_TABLES, SCHEMA, SCHEMA_VERSION

__all__ = ["Freshness", "IndexStore", "utc"]


def utc(seconds: int) -> datetime:
    """A block timestamp as an aware UTC time."""
    return datetime.fromtimestamp(int(seconds), tz=UTC)


@dataclass(frozen=True, slots=True)
class Freshness:
    """How current the index is."""

    block: int
    """Last block applied (``-1``: nothing yet)."""
    block_time: datetime | None
    """Timestamp of that block."""
    synced_at: datetime | None
    """When this index last completed a sync with the node (UTC)."""
    block_hash: str | None = None
    """Hex hash of that block: after a reorganisation the same block number (even with the
    same time) can be another block, with other registry facts."""

    def age_seconds(self, now: datetime | None = None) -> float | None:
        if self.synced_at is None:
            return None
        return ((now or datetime.now(UTC)) - self.synced_at).total_seconds()


class IndexStore:
    """SQLite file of one registry deployment's index."""

    def __init__(self, path: Path | str, *, registry_address: str, start_block: int = 0) -> None:
        self.path = str(path)
        self.registry_address = Web3.to_checksum_address(registry_address)
        self.start_block = start_block
        self._lock = threading.RLock()
        """Guards the connection: held only for a read or a write transaction."""
        self._sync_lock = threading.Lock()
        """One sync at a time; held across node round-trips, so readers never wait on the node."""
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._upgrade()
        self._db.executescript(SCHEMA)
        # Reads go through one connection per thread (WAL: readers never wait for the writer
        # or for each other); an in-memory index has one connection, shared under the lock.
        self._shared_only = self.path == ":memory:" or "mode=memory" in self.path
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        stored = self._meta("registry_address")
        if stored is None:
            self._set_meta("registry_address", self.registry_address)
        elif stored != self.registry_address:
            raise ValueError(f"index {self.path} belongs to registry {stored}")

    def _upgrade(self) -> None:
        """Empty an index file written in another shape: it is a cache of the chain, rebuilt
        by the next sync (from the deployment block)."""
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        with self._transaction() as db:
            # Checked inside the write lock: another process may be opening the same file.
            if self._meta("schema_version") == SCHEMA_VERSION:
                return
            for table in DATA_TABLES:
                db.execute(f"DROP TABLE IF EXISTS {table}")
            db.execute("DELETE FROM meta")
            self._set_meta("schema_version", SCHEMA_VERSION)

    def close(self) -> None:
        with self._lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()
            self._db.close()

    def _reader(self) -> sqlite3.Connection | None:
        """This thread's read-only connection, or ``None`` to use the shared one."""
        if self._shared_only:
            return None
        reader: sqlite3.Connection | None = getattr(self._local, "db", None)
        if reader is None:
            reader = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            reader.execute("PRAGMA query_only = ON")
            self._local.db = reader
            with self._lock:
                self._readers.append(reader)
        return reader

    def _read(self, sql: str, params: tuple[Any, ...], many: bool) -> Any:
        reader = self._reader()
        if reader is None:
            with self._lock:
                cursor = self._db.execute(sql, params)
                return cursor.fetchall() if many else cursor.fetchone()
        cursor = reader.execute(sql, params)
        return cursor.fetchall() if many else cursor.fetchone()

    # ------------------------------------------------------------------ meta

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def freshness(self) -> Freshness:
        rows = self._read(
            "SELECT key, value FROM meta "
            "WHERE key IN ('last_block', 'last_block_hash', 'last_block_time', 'synced_at')",
            (),
            many=True,
        )
        meta = {str(k): str(v) for k, v in rows}
        block, block_time, synced = (
            meta.get("last_block"),
            meta.get("last_block_time"),
            meta.get("synced_at"),
        )
        return Freshness(
            block=int(block) if block is not None else -1,
            block_time=utc(int(block_time)) if block_time else None,
            synced_at=datetime.fromisoformat(synced) if synced else None,
            block_hash=meta.get("last_block_hash"),
        )

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        return self._read(sql, params, many=False)

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        rows: list[Any] = self._read(sql, params, many=True)
        return rows

    def _read_meta(self, key: str) -> str | None:
        """A meta value, read like any other row (``_meta`` serves the writer)."""
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def block_hash(self) -> str | None:
        """Hex hash of the last indexed block (what other nodes are asked to confirm)."""
        return self._read_meta("last_block_hash")

    def chain_id(self) -> int | None:
        """The chain id of the node this index last synced from (``None`` before any sync)."""
        found = self._read_meta("chain_id")
        return None if found is None else int(found)
