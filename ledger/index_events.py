"""Registry events as the index reads them: decoded from the node's logs, and applied to the
index's tables (the one place that says what each event changes)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ledger.artifact import load_registry_artifact
from ledger.codes import cert_type_from_bytes, issuer_id_from_bytes, province_from_bytes
from ledger.keccak import keccak256
from ledger.records import IssuerStatus
from ledger.registry import Registry

__all__ = ["Event", "EventDecoder", "apply_event"]


def _json_value(value: object) -> object:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


@dataclass(frozen=True, slots=True)
class Event:
    """One decoded registry event."""

    name: str
    args: dict[str, Any]
    block: int
    log_index: int
    tx_hash: bytes
    block_hash: bytes
    """The hash of the block the node had the event in (``b""`` when replayed from the
    journal, whose blocks are checked already)."""


class EventDecoder:
    """Decodes raw registry logs by their first topic."""

    def __init__(self, registry: Registry) -> None:
        self._events: dict[bytes, Any] = {}
        self._binary: dict[str, frozenset[str]] = {}
        """Event name → its arguments of a ``bytes…`` type."""
        for entry in load_registry_artifact().abi:
            if entry.get("type") != "event":
                continue
            types = ",".join(str(p["type"]) for p in entry["inputs"])
            topic = keccak256(f"{entry['name']}({types})".encode())
            self._events[topic] = getattr(registry.contract.events, str(entry["name"]))()
            self._binary[str(entry["name"])] = frozenset(
                str(p["name"]) for p in entry["inputs"] if str(p["type"]).startswith("bytes")
            )

    def decode(self, log: Any) -> Event | None:
        topics = log["topics"]
        if not topics:
            return None
        event = self._events.get(bytes(topics[0]))
        if event is None:
            return None
        decoded = event.process_log(log)
        return Event(
            name=str(decoded["event"]),
            args={k: (bytes(v) if isinstance(v, bytes) else v) for k, v in decoded["args"].items()},
            block=int(log["blockNumber"]),
            log_index=int(log["logIndex"]),
            tx_hash=bytes(log["transactionHash"]),
            block_hash=bytes(log["blockHash"]),
        )

    def from_journal(
        self, block: int, log_index: int, tx_hash: bytes, name: str, args: str
    ) -> Event:
        """An event as the journal recorded it (its byte strings written as ``0x…`` text,
        turned back into bytes by the event's declared types)."""
        raw = json.loads(args)
        binary = self._binary[name]
        return Event(
            name=name,
            args={k: bytes.fromhex(v[2:]) if k in binary else v for k, v in raw.items()},
            block=block,
            log_index=log_index,
            tx_hash=bytes(tx_hash),
            block_hash=b"",
        )


def apply_event(db: sqlite3.Connection, e: Event, ts: int) -> None:
    """Apply one registry event (stamped with its block's time ``ts``) to the tables, and
    journal it."""
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
        _history(db, issuer, e, "REGISTERED", a["account"])
    elif name in ("IssuerSuspended", "IssuerReactivated"):
        issuer = issuer_id_from_bytes(a["issuerId"])
        status = IssuerStatus.SUSPENDED if name == "IssuerSuspended" else IssuerStatus.ACTIVE
        db.execute("UPDATE issuers SET status = ? WHERE issuer_id = ?", (status.value, issuer))
        _history(db, issuer, e, status.value, a["by"])
    elif name == "IssuerAccountRotated":
        issuer = issuer_id_from_bytes(a["issuerId"])
        db.execute("UPDATE issuers SET account = ? WHERE issuer_id = ?", (a["newAccount"], issuer))
        _history(db, issuer, e, "ACCOUNT_ROTATED", a["newAccount"])
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
        _history(db, issuer, e, "SEAL_ROTATED", "0x" + a["newFingerprint"].hex())
    elif name == "SealCertificateRevoked":
        issuer = issuer_id_from_bytes(a["issuerId"])
        # A repeat may only move the time earlier: the latest declaration is the record.
        db.execute(
            "INSERT OR REPLACE INTO seal_revocations VALUES (?, ?, ?, ?, ?, ?, ?)",
            (a["fingerprint"], issuer, a["effectiveFrom"], a["reason"], e.block, ts, a["by"]),
        )
        _history(db, issuer, e, "SEAL_REVOKED", "0x" + a["fingerprint"].hex())
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
            _history(db, issuer, e, "TYPE_GRANTED", cert_type)
        else:
            db.execute(
                "DELETE FROM issuer_types WHERE issuer_id = ? AND cert_type = ?",
                (issuer, cert_type),
            )
            _history(db, issuer, e, "TYPE_WITHDRAWN", cert_type)
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


def _history(db: sqlite3.Connection, issuer: str, e: Event, change: str, detail: str) -> None:
    db.execute(
        "INSERT INTO issuer_history VALUES (?, ?, ?, ?, ?)",
        (issuer, e.block, e.log_index, change, detail),
    )
