"""Snapshots of the registry index: its state copied out (what a trust bundle carries), put
back in whole, or changed by a delta in one checked transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ledger.index_schema import DATA_TABLES, SNAPSHOT_COLUMNS, SNAPSHOT_TABLES, WHOLE_JOURNAL
from ledger.index_store import IndexStore

__all__ = ["IndexSnapshots"]


class IndexSnapshots(IndexStore):
    """Copying the index's state out and in."""

    def export_tables(self) -> tuple[dict[str, str], dict[str, list[list[Any]]]]:
        """A consistent copy of the registry state (every table but the event journal) and the
        meta rows saying which block it is as of: what a trust bundle carries."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                return self._export(self._db)
            finally:
                self._db.execute("COMMIT")

    def _export(self, db: sqlite3.Connection) -> tuple[dict[str, str], dict[str, list[list[Any]]]]:
        meta = {
            str(k): str(v)
            for k, v in db.execute(
                "SELECT key, value FROM meta WHERE key IN "
                "('last_block', 'last_block_hash', 'last_block_time')"
            )
        }
        tables = {
            table: [
                list(row)
                for row in db.execute(
                    f"SELECT * FROM {table} ORDER BY {self._all_columns(table)}"  # noqa: S608
                )
            ]
            for table in SNAPSHOT_TABLES
        }
        return meta, tables

    def _all_columns(self, table: str) -> str:
        """``1, 2, … n``: a snapshot orders rows by every column, so two indexes holding the
        same rows export the same bytes."""
        count = len(self._db.execute(f"PRAGMA table_info({table})").fetchall())
        return ", ".join(str(i) for i in range(1, count + 1))

    def blob_columns(self) -> dict[str, tuple[int, ...]]:
        """Positions of the BLOB columns of each snapshot table (for text encodings)."""
        found: dict[str, tuple[int, ...]] = {}
        with self._lock:
            for table in SNAPSHOT_TABLES:
                info = self._db.execute(f"PRAGMA table_info({table})").fetchall()
                found[table] = tuple(int(c[0]) for c in info if str(c[2]).upper() == "BLOB")
        return found

    def import_tables(
        self, meta: dict[str, str], tables: dict[str, list[list[Any]]], synced_at: datetime
    ) -> None:
        """Replace this index's content with a snapshot (``export_tables`` output, as checked
        by whoever signed it). ``synced_at`` says when the data was current."""
        unknown = set(tables) - set(SNAPSHOT_TABLES)
        if unknown:
            raise ValueError(f"unknown tables in snapshot: {sorted(unknown)}")
        with self._transaction() as db:
            for table in DATA_TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            for table, rows in tables.items():
                if rows:
                    marks = ", ".join("?" * len(rows[0]))
                    db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608
            for key in ("last_block", "last_block_hash", "last_block_time"):
                self._set_meta(key, meta[key])
            self._set_meta("synced_at", synced_at.isoformat())
            # The journal no longer explains the state: a reorganisation means a rebuild.
            db.execute("DELETE FROM meta WHERE key = ?", (WHOLE_JOURNAL,))

    def apply_changes(
        self,
        removed: Mapping[str, Sequence[Sequence[Any]]],
        added: Mapping[str, Sequence[Sequence[Any]]],
        meta: Mapping[str, str],
        synced_at: datetime,
        check: Callable[[dict[str, str], dict[str, list[list[Any]]]], None],
    ) -> None:
        """Change this index's snapshot in one write transaction: every row of ``removed``
        deleted (each must be there), every row of ``added`` inserted (none may clash with a
        row still there), the meta rows set; then ``check`` is given the whole result
        (``export_tables`` form) and the transaction commits only if it returns. If anything
        does not apply, or ``check`` raises, the transaction rolls back and the exception
        passes through (``ValueError`` for a row that does not apply): the index is as it was,
        and readers on other connections never see a half-applied state."""
        unknown = (set(removed) | set(added)) - set(SNAPSHOT_TABLES)
        if unknown:
            raise ValueError(f"unknown tables in changes: {sorted(unknown)}")
        with self._transaction() as db:
            for table, rows in removed.items():
                columns = SNAPSHOT_COLUMNS[table]
                where = " AND ".join(f"{c.name} IS ?" for c in columns)
                delete = (
                    f"DELETE FROM {table} WHERE rowid = "  # noqa: S608 - fixed names
                    f"(SELECT rowid FROM {table} WHERE {where} LIMIT 1)"
                )
                for row in rows:
                    if db.execute(delete, tuple(row)).rowcount != 1:
                        raise ValueError(f"{table}: a row to remove is not there")
            for table, rows in added.items():
                marks = ", ".join("?" * len(SNAPSHOT_COLUMNS[table]))
                try:
                    db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608
                except sqlite3.IntegrityError as exc:
                    raise ValueError(f"{table}: a row to add clashes with one there") from exc
            for key in ("last_block", "last_block_hash", "last_block_time"):
                self._set_meta(key, meta[key])
            self._set_meta("synced_at", synced_at.isoformat())
            # The journal no longer explains the state: a reorganisation means a rebuild.
            db.execute("DELETE FROM meta WHERE key = ?", (WHOLE_JOURNAL,))
            check(*self._export(db))
