"""One process at a time carries a store's certificates through seal → batch → anchor.

``ecert serve issuer`` and ``ecert issue`` may share one home (one store): both accept
submissions, but two pipelines sealing the same received certificate at once would both store a
PDF for it. So each pass of the pipeline's steps takes this lock without waiting; a pipeline that
finds it taken skips the pass, and the holder does the work. The lock belongs to the store, not
the home:

- SQLite: ``flock`` on ``<database>.worker.lock`` beside the database file; the kernel releases
  it when the holder exits, however it exits (kill -9 included).
- PostgreSQL: a session advisory lock (``pg_try_advisory_lock``), released when its connection
  closes.

The lock file names the holder (pid and command) so a refusal can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

__all__ = ["WorkLock"]

_PG_KEY = 0x65636572  # "ecer": one advisory lock key for the issuing pipeline


class WorkLock:
    """Exclusive, non-blocking, re-entrant within one thread of this object."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._mutex = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._conn: Connection | None = None
        database = engine.url.database or ""
        self._path = (
            Path(f"{database}.worker.lock")
            if engine.dialect.name == "sqlite" and database and database != ":memory:"
            else None
        )

    def __repr__(self) -> str:
        return f"WorkLock({self._engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def held(self) -> Iterator[bool]:
        """``True`` inside if this object holds the lock (taken now, or already by an outer
        ``held``), ``False`` if another process has it."""
        with self._mutex:
            if self._depth == 0 and not self._acquire():
                yield False
                return
            self._depth += 1
            try:
                yield True
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release()

    def holder(self) -> str:
        """Who holds the lock, as the lock file says (SQLite), or a general description."""
        if self._path is not None:
            try:
                return self._path.read_text("utf-8").strip() or "another process"
            except OSError:
                return "another process"
        return "another process using this database"

    def _acquire(self) -> bool:
        if self._path is not None:
            return self._acquire_file(self._path)
        if self._engine.dialect.name == "postgresql":
            conn = self._engine.connect()
            if conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_KEY}).scalar():
                self._conn = conn
                return True
            conn.close()
            return False
        return True  # an in-memory database belongs to this process alone

    def _acquire_file(self, path: Path) -> bool:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} ({' '.join(sys.argv[:3])})\n".encode())
        self._fd = fd
        return True

    def _release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_KEY})
            finally:
                self._conn.close()
                self._conn = None
