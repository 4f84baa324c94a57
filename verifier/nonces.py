"""Nonces a verifier hands out for holder presentations, each usable once and for a few
minutes. Kept in SQLite so every worker process of a service shares them: a presentation
replayed to another worker is still caught.

``POST /api/v1/nonce`` needs no login, so the book defends itself:

- a per-client rate limit (a token bucket per client address, in each worker process's
  memory): beyond it, ``admit`` says how long to wait (429 with ``Retry-After``);
- a cap on outstanding nonces (issued, unused, unexpired; counted across processes at each
  clean-up, once a second): beyond it ``NonceBookFull`` (503);
- writes off the event loop (``issue_async`` runs in the book's own thread), an index on expiry
  for the clean-up, and ``synchronous=NORMAL`` (WAL: a commit without an fsync; a nonce lost to
  a power cut only means asking for another).
"""

from __future__ import annotations

import asyncio
import math
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

__all__ = [
    "NonceBook",
    "NonceBookFull",
    "NoncePolicy",
    "NonceState",
    "RateLimiter",
    "retry_after",
]

NONCE_BYTES = 16
NONCE_TTL_S = 600.0
_CLEANUP_EVERY_S = 1.0


class NonceState(StrEnum):
    FRESH = "FRESH"
    """Issued here, not used before: now used."""
    REPLAYED = "REPLAYED"
    UNKNOWN = "UNKNOWN"
    """Not issued here, or expired."""


class NonceBookFull(Exception):
    """As many nonces are outstanding as the book allows."""


@dataclass(frozen=True, slots=True)
class NoncePolicy:
    required: bool = False
    """Refuse presentations that carry no nonce of this verifier (INVALID ``NONCE_REQUIRED``)."""
    per_client_per_second: float = 5.0
    """Nonces one client address may get per second, sustained."""
    per_client_burst: int = 20
    """…and at once."""
    max_outstanding: int = 100_000
    """Issued, unused and unexpired nonces, across the service's processes."""


class RateLimiter:
    """A token bucket per key (client address), the least recently seen keys forgotten beyond
    ``max_keys`` (a forgotten key starts again with a full bucket)."""

    def __init__(self, rate: float, burst: int, *, max_keys: int = 50_000) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, key: str, now: float | None = None) -> float | None:
        """``None`` if ``key`` may go ahead (a token taken), else seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, seen = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - seen) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return None if allowed else (1.0 - tokens) / self.rate


class NonceBook:
    def __init__(
        self,
        path: Path | str = ":memory:",
        *,
        ttl: float = NONCE_TTL_S,
        policy: NoncePolicy | None = None,
    ) -> None:
        self.ttl = ttl
        self.policy = policy or NoncePolicy()
        self.limiter = RateLimiter(self.policy.per_client_per_second, self.policy.per_client_burst)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS nonces (nonce BLOB PRIMARY KEY, expires REAL NOT NULL, "
            "used INTEGER NOT NULL DEFAULT 0)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS nonces_expires ON nonces (expires)")
        self._next_cleanup = 0.0
        self._outstanding = 0
        """Outstanding nonces at the last clean-up, plus those issued here since."""
        self._writer: ThreadPoolExecutor | None = None

    def admit(self, client: str) -> float | None:
        """Whether ``client`` may have a nonce now: ``None``, or seconds to wait."""
        return self.limiter.admit(client)

    def issue(self) -> tuple[bytes, float]:
        """A new nonce and the Unix time it expires; ``NonceBookFull`` at the cap."""
        nonce, now = os.urandom(NONCE_BYTES), time.time()
        with self._lock:
            if now >= self._next_cleanup:
                self._clean_up(now)
            if self._outstanding >= self.policy.max_outstanding:
                raise NonceBookFull(f"{self._outstanding:,} nonces outstanding")
            self._db.execute(
                "INSERT INTO nonces (nonce, expires) VALUES (?, ?)", (nonce, now + self.ttl)
            )
            self._outstanding += 1
        return nonce, now + self.ttl

    async def issue_async(self) -> tuple[bytes, float]:
        """``issue`` in the book's own writer thread, so the event loop never waits for SQLite
        (another process may hold its write lock for a moment)."""
        with self._lock:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="ecert-nonces")
            writer = self._writer
        return await asyncio.get_running_loop().run_in_executor(writer, self.issue)

    def _clean_up(self, now: float) -> None:
        # used and unknown ones stay a ttl past expiry, so a replay is told apart from a stranger
        self._db.execute("DELETE FROM nonces WHERE expires < ?", (now - self.ttl,))
        (self._outstanding,) = self._db.execute(
            "SELECT COUNT(*) FROM nonces WHERE expires >= ? AND used = 0", (now,)
        ).fetchone()
        self._next_cleanup = now + _CLEANUP_EVERY_S

    def consume(self, nonce: bytes) -> NonceState:
        """Use a nonce once: FRESH the first time, REPLAYED after, UNKNOWN if never issued
        here or expired. Blocks on SQLite: not for an event loop."""
        with self._lock:
            used = self._db.execute(
                "UPDATE nonces SET used = 1 WHERE nonce = ? AND used = 0 AND expires >= ?",
                (bytes(nonce), time.time()),
            ).rowcount
            if used == 1:
                self._outstanding = max(0, self._outstanding - 1)
                return NonceState.FRESH
            row = self._db.execute(
                "SELECT used FROM nonces WHERE nonce = ?", (bytes(nonce),)
            ).fetchone()
        return NonceState.REPLAYED if row is not None and row[0] else NonceState.UNKNOWN

    def close(self) -> None:
        if self._writer is not None:
            self._writer.shutdown(wait=True)
        self._db.close()


def retry_after(seconds: float) -> str:
    """A ``Retry-After`` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
