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

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from web3 import Web3

from ledger.artifact import load_registry_artifact
from ledger.chain import translate_errors
from ledger.codes import (
    RevocationReason,
    cert_type_from_bytes,
    cert_type_to_bytes,
    issuer_id_from_bytes,
    province_from_bytes,
)
from ledger.keccak import keccak256
from ledger.records import (
    Anchor,
    CaDistrust,
    Issuer,
    IssuerStatus,
    Province,
    Revocation,
    SealCertificate,
    SealRevocation,
)
from ledger.registry import Registry

__all__ = [
    "SCHEMA_VERSION",
    "SNAPSHOT_COLUMNS",
    "Column",
    "Freshness",
    "RegistryIndex",
    "SyncResult",
]

SCHEMA_VERSION = "2"
"""Shape of the tables below; an index file of another shape is rebuilt from the chain."""

_SCHEMA = """
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
"""
_DATA_TABLES = (
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
)

# What a snapshot carries: the registry state, not the event journal.
_SNAPSHOT_TABLES = tuple(t for t in _DATA_TABLES if t != "journal")


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
        db.executescript(_SCHEMA)
        return {
            table: tuple(
                Column(str(name), str(kind).upper(), not notnull and not pk)
                for _cid, name, kind, notnull, _default, pk in db.execute(
                    f"PRAGMA table_info({table})"
                )
            )
            for table in _SNAPSHOT_TABLES
        }
    finally:
        db.close()


SNAPSHOT_COLUMNS: dict[str, tuple[Column, ...]] = _snapshot_columns()
"""Table → columns of everything a snapshot (a trust bundle) carries, in schema order: what
binary encodings of a snapshot are checked against."""


@dataclass(frozen=True, slots=True)
class Freshness:
    """How current the index is."""

    block: int
    """Last block applied (``-1``: nothing yet)."""
    block_time: datetime | None
    """Timestamp of that block."""
    synced_at: datetime | None
    """When this index last completed a sync with the node (UTC)."""

    def age_seconds(self, now: datetime | None = None) -> float | None:
        if self.synced_at is None:
            return None
        return ((now or datetime.now(UTC)) - self.synced_at).total_seconds()


@dataclass(frozen=True, slots=True)
class SyncResult:
    from_block: int
    to_block: int
    events: int
    rebuilt: bool


def _time(seconds: int) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def _seal(row: Any) -> SealCertificate:
    return SealCertificate(
        fingerprint=bytes(row[0]),
        issuer_id=row[1],
        ca_fingerprint=bytes(row[2]),
        from_block=row[3],
        until_block=row[4],
    )


def _json_value(value: object) -> object:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


class RegistryIndex:
    """SQLite-backed mirror of one registry deployment."""

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
        self._db.executescript(_SCHEMA)
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
            for table in _DATA_TABLES:
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
            "WHERE key IN ('last_block', 'last_block_time', 'synced_at')",
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
            block_time=_time(int(block_time)) if block_time else None,
            synced_at=datetime.fromisoformat(synced) if synced else None,
        )

    # ------------------------------------------------------------------ sync

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
            decoder = _EventDecoder(registry)
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
                            self._apply(db, entry, block_times[entry.block])
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
            for table in _DATA_TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            db.execute("DELETE FROM meta WHERE key NOT IN ('registry_address', 'schema_version')")

    def _apply(self, db: sqlite3.Connection, e: _Event, ts: int) -> None:
        a = e.args
        db.execute(
            "INSERT OR IGNORE INTO journal VALUES (?, ?, ?, ?, ?)",
            (
                e.block,
                e.log_index,
                e.tx_hash,
                e.name,
                json.dumps({k: _json_value(v) for k, v in a.items()}, ensure_ascii=False),
            ),
        )
        name = e.name
        if name == "ProvinceAdmitted":
            db.execute(
                "INSERT OR REPLACE INTO provinces VALUES (?, ?, ?, ?)",
                (province_from_bytes(a["code"]), a["name"], a["authority"], e.block),
            )
        elif name == "ProvinceAuthorityChanged":
            db.execute(
                "UPDATE provinces SET authority = ? WHERE code = ?",
                (a["newAuthority"], province_from_bytes(a["code"])),
            )
        elif name == "ProvinceBundleKeySet":
            db.execute(
                "INSERT OR REPLACE INTO bundle_keys VALUES (?, ?, ?, ?)",
                (
                    province_from_bytes(a["code"]),
                    bytes(a["key"]),
                    bytes(a["proofOfPossession"]),
                    e.block,
                ),
            )
        elif name == "IssuerRegistered":
            issuer = issuer_id_from_bytes(a["issuerId"])
            db.execute(
                "INSERT OR REPLACE INTO issuers VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    issuer,
                    province_from_bytes(a["provinceCode"]),
                    a["name"],
                    a["account"],
                    IssuerStatus.ACTIVE.value,
                    a["sealCertFingerprint"],
                    e.block,
                ),
            )
            db.execute(
                "INSERT OR REPLACE INTO seal_certs VALUES (?, ?, ?, ?, NULL)",
                (a["sealCertFingerprint"], issuer, a["caFingerprint"], e.block),
            )
            self._history(db, issuer, e, "REGISTERED", a["account"])
        elif name in ("IssuerSuspended", "IssuerReactivated"):
            issuer = issuer_id_from_bytes(a["issuerId"])
            status = IssuerStatus.SUSPENDED if name == "IssuerSuspended" else IssuerStatus.ACTIVE
            db.execute("UPDATE issuers SET status = ? WHERE issuer_id = ?", (status.value, issuer))
            self._history(db, issuer, e, status.value, a["by"])
        elif name == "IssuerAccountRotated":
            issuer = issuer_id_from_bytes(a["issuerId"])
            db.execute(
                "UPDATE issuers SET account = ? WHERE issuer_id = ?", (a["newAccount"], issuer)
            )
            self._history(db, issuer, e, "ACCOUNT_ROTATED", a["newAccount"])
        elif name == "IssuerSealCertificateRotated":
            issuer = issuer_id_from_bytes(a["issuerId"])
            db.execute(
                "UPDATE seal_certs SET until_block = ? WHERE fingerprint = ?",
                (e.block, a["previousFingerprint"]),
            )
            db.execute(
                "INSERT OR REPLACE INTO seal_certs VALUES (?, ?, ?, ?, NULL)",
                (a["newFingerprint"], issuer, a["caFingerprint"], e.block),
            )
            db.execute(
                "UPDATE issuers SET seal_fp = ? WHERE issuer_id = ?", (a["newFingerprint"], issuer)
            )
            self._history(db, issuer, e, "SEAL_ROTATED", "0x" + a["newFingerprint"].hex())
        elif name == "SealCertificateRevoked":
            issuer = issuer_id_from_bytes(a["issuerId"])
            # A repeat may only move the time earlier: the latest declaration is the record.
            db.execute(
                "INSERT OR REPLACE INTO seal_revocations VALUES (?, ?, ?, ?, ?, ?, ?)",
                (a["fingerprint"], issuer, a["effectiveFrom"], a["reason"], e.block, ts, a["by"]),
            )
            self._history(db, issuer, e, "SEAL_REVOKED", "0x" + a["fingerprint"].hex())
        elif name == "ProvinceCaDistrusted":
            db.execute(
                "INSERT OR REPLACE INTO ca_distrusts VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    a["caFingerprint"],
                    province_from_bytes(a["provinceCode"]),
                    a["effectiveFrom"],
                    a["reason"],
                    e.block,
                    ts,
                    a["by"],
                ),
            )
        elif name in ("IssuerCertTypeGranted", "IssuerCertTypeWithdrawn"):
            issuer = issuer_id_from_bytes(a["issuerId"])
            cert_type = cert_type_from_bytes(a["certType"])
            if name == "IssuerCertTypeGranted":
                db.execute("INSERT OR IGNORE INTO issuer_types VALUES (?, ?)", (issuer, cert_type))
                self._history(db, issuer, e, "TYPE_GRANTED", cert_type)
            else:
                db.execute(
                    "DELETE FROM issuer_types WHERE issuer_id = ? AND cert_type = ?",
                    (issuer, cert_type),
                )
                self._history(db, issuer, e, "TYPE_WITHDRAWN", cert_type)
        elif name == "RootAnchored":
            db.execute(
                "INSERT OR IGNORE INTO anchors VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    issuer_id_from_bytes(a["issuerId"]),
                    a["root"],
                    cert_type_from_bytes(a["certType"]),
                    a["leafCount"],
                    e.block,
                    ts,
                    a["account"],
                    e.tx_hash,
                ),
            )
        elif name == "RootRevoked":
            db.execute(
                "INSERT OR IGNORE INTO root_revocations VALUES (?, ?, ?, ?, ?, ?)",
                (issuer_id_from_bytes(a["issuerId"]), a["root"], a["reason"], e.block, ts, a["by"]),
            )
        elif name == "CertificateRevoked":
            db.execute(
                "INSERT OR IGNORE INTO leaf_revocations VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    issuer_id_from_bytes(a["issuerId"]),
                    a["root"],
                    a["leaf"],
                    a["reason"],
                    e.block,
                    ts,
                    a["by"],
                ),
            )
        elif name == "RecognitionSet":
            db.execute(
                "INSERT OR REPLACE INTO recognitions VALUES (?, ?, ?, ?, ?)",
                (
                    province_from_bytes(a["verifyingProvince"]),
                    province_from_bytes(a["issuingProvince"]),
                    cert_type_from_bytes(a["certType"]),
                    int(a["recognised"]),
                    e.block,
                ),
            )

    @staticmethod
    def _history(db: sqlite3.Connection, issuer: str, e: _Event, change: str, detail: str) -> None:
        db.execute(
            "INSERT INTO issuer_history VALUES (?, ?, ?, ?, ?)",
            (issuer, e.block, e.log_index, change, detail),
        )

    # ------------------------------------------------------------------ reads

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        return self._read(sql, params, many=False)

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        rows: list[Any] = self._read(sql, params, many=True)
        return rows

    def province(self, code: str) -> Province | None:
        row = self._one(
            "SELECT code, name, authority, admitted_block FROM provinces WHERE code = ?", (code,)
        )
        return None if row is None else Province(*row)

    def provinces(self) -> list[Province]:
        rows = self._all(
            "SELECT code, name, authority, admitted_block FROM provinces "
            "ORDER BY admitted_block, code"
        )
        return [Province(*row) for row in rows]

    def issuer(self, issuer_id: str) -> Issuer | None:
        row = self._one(
            "SELECT issuer_id, province, name, account, status, seal_fp, registered_block "
            "FROM issuers WHERE issuer_id = ?",
            (issuer_id,),
        )
        if row is None:
            return None
        types = self._all(
            "SELECT cert_type FROM issuer_types WHERE issuer_id = ? ORDER BY 1", (issuer_id,)
        )
        return Issuer(
            issuer_id=row[0],
            province=row[1],
            name=row[2],
            account=row[3],
            status=IssuerStatus(row[4]),
            seal_cert_fingerprint=bytes(row[5]),
            registered_at_block=row[6],
            cert_types=tuple(t[0] for t in types),
        )

    def issuers(self) -> list[Issuer]:
        ids = self._all("SELECT issuer_id FROM issuers ORDER BY registered_block, issuer_id")
        found = (self.issuer(i[0]) for i in ids)
        return [i for i in found if i is not None]

    def issuer_of_account(self, account: str) -> str | None:
        row = self._one(
            "SELECT issuer_id FROM issuers WHERE account = ?", (Web3.to_checksum_address(account),)
        )
        return None if row is None else str(row[0])

    def is_authorised(self, issuer_id: str, cert_type: str) -> bool:
        cert_type_to_bytes(cert_type)  # validates the code
        row = self._one(
            "SELECT 1 FROM issuers i JOIN issuer_types t ON t.issuer_id = i.issuer_id "
            "WHERE i.issuer_id = ? AND t.cert_type = ? AND i.status = ?",
            (issuer_id, cert_type, IssuerStatus.ACTIVE.value),
        )
        return row is not None

    def issuer_history(self, issuer_id: str) -> list[tuple[int, str, str]]:
        """``(block, change, detail)`` for every change to an issuer, oldest first."""
        rows = self._all(
            "SELECT block, change, detail FROM issuer_history WHERE issuer_id = ? "
            "ORDER BY block, log_index",
            (issuer_id,),
        )
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    def seal_certificate(self, fingerprint: bytes) -> SealCertificate | None:
        row = self._one(
            "SELECT fingerprint, issuer_id, ca_fingerprint, from_block, until_block "
            "FROM seal_certs WHERE fingerprint = ?",
            (bytes(fingerprint),),
        )
        return None if row is None else _seal(row)

    def seal_certificate_at(self, issuer_id: str, block: int) -> SealCertificate | None:
        """The seal certificate that was the issuer's at ``block`` (e.g. an anchor's block):
        what a verifier holding only a QR code knows the certificate was sealed with."""
        row = self._one(
            "SELECT fingerprint, issuer_id, ca_fingerprint, from_block, until_block "
            "FROM seal_certs WHERE issuer_id = ? AND from_block <= ? "
            "AND (until_block IS NULL OR ? < until_block) ORDER BY from_block DESC LIMIT 1",
            (issuer_id, block, block),
        )
        return None if row is None else _seal(row)

    def seal_revocation(self, fingerprint: bytes) -> SealRevocation | None:
        row = self._one(
            "SELECT issuer_id, effective_from, reason, block, timestamp FROM seal_revocations "
            "WHERE fingerprint = ?",
            (bytes(fingerprint),),
        )
        if row is None:
            return None
        return SealRevocation(
            fingerprint=bytes(fingerprint),
            issuer_id=row[0],
            effective_from=_time(row[1]),
            reason=RevocationReason(row[2]),
            block_number=row[3],
            timestamp=_time(row[4]),
        )

    def ca_distrust(self, fingerprint: bytes) -> CaDistrust | None:
        row = self._one(
            "SELECT province, effective_from, reason, block, timestamp FROM ca_distrusts "
            "WHERE fingerprint = ?",
            (bytes(fingerprint),),
        )
        if row is None:
            return None
        return CaDistrust(
            fingerprint=bytes(fingerprint),
            province=row[0],
            effective_from=_time(row[1]),
            reason=RevocationReason(row[2]),
            block_number=row[3],
            timestamp=_time(row[4]),
        )

    def anchor_of(self, issuer_id: str, root: bytes) -> Anchor | None:
        """The anchor ``issuer_id`` recorded for ``root`` (another issuer's copy of the same
        root is a separate anchor and never answers here)."""
        row = self._one(
            "SELECT cert_type, leaf_count, block, timestamp FROM anchors "
            "WHERE issuer_id = ? AND root = ?",
            (issuer_id, bytes(root)),
        )
        if row is None:
            return None
        return Anchor(
            root=bytes(root),
            issuer_id=issuer_id,
            cert_type=row[0],
            leaf_count=row[1],
            block_number=row[2],
            timestamp=_time(row[3]),
        )

    def anchor_count(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM anchors", ())[0])

    def root_revocation(self, issuer_id: str, root: bytes) -> Revocation | None:
        row = self._one(
            "SELECT reason, block, timestamp FROM root_revocations "
            "WHERE issuer_id = ? AND root = ?",
            (issuer_id, bytes(root)),
        )
        return None if row is None else Revocation(RevocationReason(row[0]), row[1], _time(row[2]))

    def certificate_revocation(self, issuer_id: str, root: bytes, leaf: bytes) -> Revocation | None:
        row = self._one(
            "SELECT reason, block, timestamp FROM leaf_revocations "
            "WHERE issuer_id = ? AND root = ? AND leaf = ?",
            (issuer_id, bytes(root), bytes(leaf)),
        )
        return None if row is None else Revocation(RevocationReason(row[0]), row[1], _time(row[2]))

    def is_recognised(self, verifying: str, issuing: str, cert_type: str) -> bool:
        if verifying == issuing:
            return self.province(verifying) is not None
        row = self._one(
            "SELECT recognised FROM recognitions WHERE verifying = ? AND issuing = ? "
            "AND cert_type = ?",
            (verifying, issuing, cert_type),
        )
        return bool(row and row[0])

    def recognitions(self) -> list[tuple[str, str, str]]:
        """Every standing agreement as ``(verifying, issuing, cert_type)``."""
        rows = self._all(
            "SELECT verifying, issuing, cert_type FROM recognitions "
            "WHERE recognised = 1 ORDER BY 1, 2, 3"
        )
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    # ------------------------------------------------------------------ snapshots

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
            for table in _SNAPSHOT_TABLES
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
            for table in _SNAPSHOT_TABLES:
                info = self._db.execute(f"PRAGMA table_info({table})").fetchall()
                found[table] = tuple(int(c[0]) for c in info if str(c[2]).upper() == "BLOB")
        return found

    def import_tables(
        self, meta: dict[str, str], tables: dict[str, list[list[Any]]], synced_at: datetime
    ) -> None:
        """Replace this index's content with a snapshot (``export_tables`` output, as checked
        by whoever signed it). ``synced_at`` says when the data was current."""
        unknown = set(tables) - set(_SNAPSHOT_TABLES)
        if unknown:
            raise ValueError(f"unknown tables in snapshot: {sorted(unknown)}")
        with self._transaction() as db:
            for table in _DATA_TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            for table, rows in tables.items():
                if rows:
                    marks = ", ".join("?" * len(rows[0]))
                    db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608
            for key in ("last_block", "last_block_hash", "last_block_time"):
                self._set_meta(key, meta[key])
            self._set_meta("synced_at", synced_at.isoformat())

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
        unknown = (set(removed) | set(added)) - set(_SNAPSHOT_TABLES)
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
            check(*self._export(db))

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

    def bundle_keys(self) -> dict[str, tuple[bytes, bytes]]:
        """Each province's published trust-bundle key and its proof of possession (unchecked:
        ``ledger.bls.verified_keys`` checks them)."""
        rows = self._all("SELECT code, key, pop FROM bundle_keys ORDER BY code")
        return {str(r[0]): (bytes(r[1]), bytes(r[2])) for r in rows}

    def event_count(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM journal", ())[0])


@dataclass(frozen=True, slots=True)
class _Event:
    name: str
    args: dict[str, Any]
    block: int
    log_index: int
    tx_hash: bytes


class _EventDecoder:
    """Decodes raw registry logs by their first topic."""

    def __init__(self, registry: Registry) -> None:
        self._events: dict[bytes, Any] = {}
        for entry in load_registry_artifact().abi:
            if entry.get("type") != "event":
                continue
            types = ",".join(str(p["type"]) for p in entry["inputs"])
            topic = keccak256(f"{entry['name']}({types})".encode())
            self._events[topic] = getattr(registry.contract.events, str(entry["name"]))()

    def decode(self, log: Any) -> _Event | None:
        topics = log["topics"]
        if not topics:
            return None
        event = self._events.get(bytes(topics[0]))
        if event is None:
            return None
        decoded = event.process_log(log)
        return _Event(
            name=str(decoded["event"]),
            args={k: (bytes(v) if isinstance(v, bytes) else v) for k, v in decoded["args"].items()},
            block=int(log["blockNumber"]),
            log_index=int(log["logIndex"]),
            tx_hash=bytes(log["transactionHash"]),
        )
