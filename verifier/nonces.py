"""Nonces a verifier hands out for holder presentations, each usable once and for a few
minutes. Kept in SQLite so every worker process of a service shares them: a presentation
replayed to another worker is still caught."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from enum import StrEnum
from pathlib import Path

__all__ = ["NonceBook", "NonceState"]

NONCE_BYTES = 16
NONCE_TTL_S = 600.0


class NonceState(StrEnum):
    FRESH = "FRESH"
    """Issued here, not used before: now used."""
    REPLAYED = "REPLAYED"
    UNKNOWN = "UNKNOWN"
    """Not issued here, or expired."""


class NonceBook:
    def __init__(self, path: Path | str = ":memory:", *, ttl: float = NONCE_TTL_S) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS nonces (nonce BLOB PRIMARY KEY, expires REAL NOT NULL, "
            "used INTEGER NOT NULL DEFAULT 0)"
        )

    def issue(self) -> tuple[bytes, float]:
        """A new nonce and the Unix time it expires."""
        nonce, expires = os.urandom(NONCE_BYTES), time.time() + self.ttl
        with self._lock:
            self._db.execute("DELETE FROM nonces WHERE expires < ?", (time.time() - self.ttl,))
            self._db.execute("INSERT INTO nonces (nonce, expires) VALUES (?, ?)", (nonce, expires))
        return nonce, expires

    def consume(self, nonce: bytes) -> NonceState:
        """Use a nonce once: FRESH the first time, REPLAYED after, UNKNOWN if never issued
        here or expired."""
        with self._lock:
            used = self._db.execute(
                "UPDATE nonces SET used = 1 WHERE nonce = ? AND used = 0 AND expires >= ?",
                (bytes(nonce), time.time()),
            ).rowcount
            if used == 1:
                return NonceState.FRESH
            row = self._db.execute(
                "SELECT used FROM nonces WHERE nonce = ?", (bytes(nonce),)
            ).fetchone()
        return NonceState.REPLAYED if row is not None and row[0] else NonceState.UNKNOWN

    def close(self) -> None:
        self._db.close()
