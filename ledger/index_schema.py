"""The registry index's tables: their SQL, which of them a snapshot carries, and the columns
binary encodings of a snapshot are checked against."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

__all__ = [
    "DATA_TABLES",
    "LOG_TABLES",
    "SCHEMA",
    "SCHEMA_VERSION",
    "SNAPSHOT_COLUMNS",
    "SNAPSHOT_TABLES",
    "WHOLE_JOURNAL",
    "Column",
]

SCHEMA_VERSION = "3"
"""Shape of the tables below; an index file of another shape is rebuilt from the chain."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS provinces (
    code TEXT PRIMARY KEY, name TEXT NOT NULL, authority TEXT NOT NULL, admitted_block INTEGER);
CREATE TABLE IF NOT EXISTS bundle_keys (
    code TEXT PRIMARY KEY, key BLOB NOT NULL, pop BLOB NOT NULL, block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS issuers (
    issuer_id TEXT PRIMARY KEY, province TEXT NOT NULL, name TEXT NOT NULL,
    account TEXT NOT NULL, status TEXT NOT NULL, seal_fp BLOB NOT NULL,
    registered_block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS issuer_types (
    issuer_id TEXT NOT NULL, cert_type TEXT NOT NULL, PRIMARY KEY (issuer_id, cert_type));
CREATE TABLE IF NOT EXISTS issuer_history (
    issuer_id TEXT NOT NULL, block INTEGER NOT NULL, log_index INTEGER NOT NULL,
    change TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seal_certs (
    fingerprint BLOB PRIMARY KEY, issuer_id TEXT NOT NULL, ca_fingerprint BLOB NOT NULL,
    from_block INTEGER NOT NULL, until_block INTEGER);
CREATE INDEX IF NOT EXISTS seal_certs_by_issuer ON seal_certs (issuer_id, from_block);
CREATE TABLE IF NOT EXISTS seal_revocations (
    fingerprint BLOB PRIMARY KEY, issuer_id TEXT NOT NULL, effective_from INTEGER NOT NULL,
    reason INTEGER NOT NULL, block INTEGER NOT NULL, timestamp INTEGER NOT NULL,
    revoked_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ca_distrusts (
    fingerprint BLOB PRIMARY KEY, province TEXT NOT NULL, effective_from INTEGER NOT NULL,
    reason INTEGER NOT NULL, block INTEGER NOT NULL, timestamp INTEGER NOT NULL,
    distrusted_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS anchors (
    issuer_id TEXT NOT NULL, root BLOB NOT NULL, cert_type TEXT NOT NULL,
    leaf_count INTEGER NOT NULL, block INTEGER NOT NULL, timestamp INTEGER NOT NULL,
    account TEXT NOT NULL, tx_hash BLOB NOT NULL, PRIMARY KEY (issuer_id, root));
CREATE INDEX IF NOT EXISTS anchors_by_issuer ON anchors (issuer_id, block);
CREATE TABLE IF NOT EXISTS root_revocations (
    issuer_id TEXT NOT NULL, root BLOB NOT NULL, reason INTEGER NOT NULL,
    block INTEGER NOT NULL, timestamp INTEGER NOT NULL, revoked_by TEXT NOT NULL,
    PRIMARY KEY (issuer_id, root));
CREATE TABLE IF NOT EXISTS leaf_revocations (
    issuer_id TEXT NOT NULL, root BLOB NOT NULL, leaf BLOB NOT NULL, reason INTEGER NOT NULL,
    block INTEGER NOT NULL, timestamp INTEGER NOT NULL, revoked_by TEXT NOT NULL,
    PRIMARY KEY (issuer_id, root, leaf));
CREATE TABLE IF NOT EXISTS recognitions (
    verifying TEXT NOT NULL, issuing TEXT NOT NULL, cert_type TEXT NOT NULL,
    recognised INTEGER NOT NULL, block INTEGER NOT NULL,
    PRIMARY KEY (verifying, issuing, cert_type));
CREATE TABLE IF NOT EXISTS journal (
    block INTEGER NOT NULL, log_index INTEGER NOT NULL, tx_hash BLOB NOT NULL,
    event TEXT NOT NULL, args TEXT NOT NULL, PRIMARY KEY (block, log_index));
CREATE TABLE IF NOT EXISTS blocks (
    block INTEGER PRIMARY KEY, hash BLOB NOT NULL, timestamp INTEGER NOT NULL);
"""
DATA_TABLES = (
    "provinces",
    "bundle_keys",
    "issuers",
    "issuer_types",
    "issuer_history",
    "seal_certs",
    "seal_revocations",
    "ca_distrusts",
    "anchors",
    "root_revocations",
    "leaf_revocations",
    "recognitions",
    "journal",
    "blocks",
)
"""Every table but ``meta``, in the order they are emptied."""

LOG_TABLES = ("journal", "blocks")
"""How the index came by its state: the events it applied, and the hash and time of every block
that had any (what a reorganisation is traced back along, and what a replay stamps rows with)."""

WHOLE_JOURNAL = "journal_whole"
"""Meta key, present while the journal holds every event from the deployment block on (what a
reorganisation is undone from); loading a snapshot or a delta clears it."""

SNAPSHOT_TABLES = tuple(t for t in DATA_TABLES if t not in LOG_TABLES)
"""What a snapshot carries: the registry state, not how the index came by it."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a snapshot table, as the schema above declares it."""

    name: str
    kind: str
    """``INTEGER``, ``TEXT`` or ``BLOB``."""
    nullable: bool
    """Whether the index ever stores NULL here (declared without NOT NULL and not part of the
    primary key: SQLite would allow NULL in a TEXT or BLOB key, the index never writes one)."""


def _snapshot_columns() -> dict[str, tuple[Column, ...]]:
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(SCHEMA)
        return {
            table: tuple(
                Column(str(name), str(kind).upper(), not notnull and not pk)
                for _cid, name, kind, notnull, _default, pk in db.execute(
                    f"PRAGMA table_info({table})"
                )
            )
            for table in SNAPSHOT_TABLES
        }
    finally:
        db.close()


SNAPSHOT_COLUMNS: dict[str, tuple[Column, ...]] = _snapshot_columns()
"""Table → columns of everything a snapshot (a trust bundle) carries, in schema order: what
binary encodings of a snapshot are checked against."""
