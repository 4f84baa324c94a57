"""Durable storage of the issuing pipeline (SQLAlchemy: SQLite file by default, PostgreSQL by
URL). Every state change is one transaction, so a crash at any point leaves each certificate in
exactly one well-defined state the pipeline can resume from.

A SQLite file holds claims, ID numbers, claims secrets and token hashes: it is created mode 600
(and tightened if an older one was not); SQLite gives its ``-wal`` and ``-shm`` files the same
mode. Columns added since a store was created are added when it is opened."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

__all__ = [
    "ApiToken",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Batch",
    "BatchStatus",
    "CertStatus",
    "Certificate",
    "Document",
    "ProgressEvent",
    "Upload",
    "aware",
    "open_store",
    "record_progress",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """``moment`` as UTC (SQLite gives datetimes back without their zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class CertStatus(StrEnum):
    """办理进度: where a certificate is."""

    RECEIVED = "RECEIVED"
    SEALED = "SEALED"
    BATCHED = "BATCHED"
    ANCHORED = "ANCHORED"
    REVOKED = "REVOKED"
    FAILED = "FAILED"
    """Terminal: could not be sealed, or its batch was refused by the registry for good; the
    reason is in ``failure_reason``. Nothing else in its batch or chunk is held up by it."""


class BatchStatus(StrEnum):
    PENDING = "PENDING"
    """Root fixed, not yet confirmed on chain (a transaction may be in flight)."""
    ANCHORED = "ANCHORED"
    FAILED = "FAILED"
    """Terminal: the registry refused the anchor in a way retrying cannot fix (issuer
    suspended, type not allowed...); ``last_error`` says why."""


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("issuer_id", "reference", name="uq_certificates_reference"),
        UniqueConstraint("issuer_id", "certificate_id", name="uq_certificates_number"),
        Index("ix_certificates_status", "status", "issuer_id", "cert_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer_id: Mapped[str] = mapped_column(String(32))
    cert_type: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(128))
    """The caller's idempotency key: submitting the same reference twice returns the first."""
    certificate_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default=CertStatus.RECEIVED.value)
    claims: Mapped[dict[str, Any]] = mapped_column(JSON)
    claims_secret: Mapped[bytes] = mapped_column(LargeBinary(32))
    issued_at: Mapped[datetime]
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    claims_commitment: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)
    document_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)
    leaf: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)
    leaf_version: Mapped[int | None] = mapped_column(Integer, default=None)
    """What ``document_digest`` covers (``ledger.leaf``): ``None`` for rows sealed before
    version 2 existed, which are version 1 (the whole file)."""
    qr_text: Mapped[str | None] = mapped_column(Text, default=None)
    formats: Mapped[str | None] = mapped_column(String(16), default=None)
    """The documents it is issued as, ``"pdf"``, ``"pdf,ofd"`` or ``"ofd"``
    (``issuer.formats``); ``None`` for rows stored before OFD existed: the PDF alone."""
    ofd_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)
    """SHA-256 of the sealed OFD file (leaf version 3), once sealed."""
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), default=None)
    leaf_index: Mapped[int | None] = mapped_column(Integer, default=None)
    proof: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    revocation_reason: Mapped[int | None] = mapped_column(Integer, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    """Why it is ``FAILED`` (a sealing error, or the registry's refusal of its batch)."""
    holder_names: Mapped[str | None] = mapped_column(Text, default=None)
    """The record's name claims (``issuer.console.search.holder_names``), lower-cased, one
    a line, for the department console's search; ``None`` for rows stored before it."""
    proof_published: Mapped[bool | None] = mapped_column(default=None)
    """Its public proof file is written in the site's proof folder (``Pipeline.proof_folder``)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Document(Base):
    """The sealed documents, apart from the certificate row so listing stays cheap."""

    __tablename__ = "documents"

    certificate_pk: Mapped[int] = mapped_column(ForeignKey("certificates.id"), primary_key=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    """The sealed PDF (empty for a certificate issued as an OFD alone)."""
    ofd: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    """The sealed OFD file, byte for byte as its leaf binds it; ``None`` if not issued."""


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (Index("ix_batches_status", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer_id: Mapped[str] = mapped_column(String(32))
    cert_type: Mapped[str] = mapped_column(String(16))
    root: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    leaf_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=BatchStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)
    block_number: Mapped[int | None] = mapped_column(Integer, default=None)
    anchored_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProgressEvent(Base):
    """One step of a certificate's progress, for 办理进度 tracing."""

    __tablename__ = "progress_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    certificate_pk: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[str] = mapped_column(Text, default="")


class AuditEntry(Base):
    """Hash-chained audit log: each entry's hash covers the previous one's."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


def record_progress(
    session: Session, cert: Certificate, status: CertStatus, detail: str = ""
) -> None:
    """Move ``cert`` to ``status`` and add the step to its progress trail."""
    cert.status = status.value
    session.add(ProgressEvent(certificate_pk=cert.id, status=status.value, detail=detail))


class AuditHead(Base):
    """The one row that says how long the audit log is and what its last hash is. Every append
    updates it first, which serialises appenders (SQLite's write lock, PostgreSQL's row lock)
    for the rest of their transaction."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entries: Mapped[int] = mapped_column(Integer)
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed statement that the audit log had ``entries`` entries ending in ``entry_hash``
    (see ``issuer.audit``); also appended to a file outside the database."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer_id: Mapped[str] = mapped_column(String(32))
    entries: Mapped[int] = mapped_column(Integer)
    entry_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    signer: Mapped[str] = mapped_column(String(42))
    signature: Mapped[str] = mapped_column(String(132))


class ApiToken(Base):
    """A department's API token, stored as its SHA-256 only."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issuer_id: Mapped[str] = mapped_column(String(32))
    cert_types: Mapped[str] = mapped_column(Text)
    """Comma-separated certificate types the token may issue and revoke."""
    label: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    """When it stops working; ``None``: only when revoked."""


class Upload(Base):
    """A batch file a clerk uploaded in the department console: which certificates it gave
    and which rows were refused (field names and messages only, never the values)."""

    __tablename__ = "console_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer_id: Mapped[str] = mapped_column(String(32), index=True)
    cert_type: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    encoding: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int] = mapped_column(Integer)
    certificate_ids: Mapped[dict[str, Any]] = mapped_column(JSON)
    """``{"ids": [certificate numbers accepted, in row order]}``."""
    row_errors: Mapped[dict[str, Any]] = mapped_column(JSON)
    """``{"rows": [{"row": 7, "reference": "...", "errors": [[field, message], ...]}]}``."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # acknowledged means on disk
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _private_sqlite_file(engine: Engine) -> None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.parent != Path():
        path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for sibling in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if sibling.exists():
            os.chmod(sibling, 0o600)


def _add_missing_columns(engine: Engine) -> None:
    """Add columns a newer version defines to tables an older one created (nullable or
    defaulted columns only: the only kind this store ever adds)."""
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(engine.dialect)
            with engine.begin() as conn:
                conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}")


def _ensure_audit_head(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        if session.get(AuditHead, 1) is not None:
            return
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()
        session.add(
            AuditHead(
                id=1,
                entries=0 if last is None else last.seq,
                entry_hash="0" * 64 if last is None else last.entry_hash,
            )
        )
        try:
            session.commit()
        except IntegrityError:  # another process created it first
            session.rollback()


def open_store(url: str) -> sessionmaker[Session]:
    """Create the tables if needed (a SQLite file mode 600) and return a session factory."""
    engine: Engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        _private_sqlite_file(engine)
        event.listen(engine, "connect", _sqlite_pragmas)
    Base.metadata.create_all(engine)
    _add_missing_columns(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    _ensure_audit_head(sessions)
    return sessions
