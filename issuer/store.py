"""Durable storage of the issuing pipeline (SQLAlchemy: SQLite file by default, PostgreSQL by
URL). Every state change is one transaction, so a crash at any point leaves each certificate in
exactly one well-defined state the pipeline can resume from."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
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
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Batch",
    "BatchStatus",
    "CertStatus",
    "Certificate",
    "Document",
    "ProgressEvent",
    "open_store",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class CertStatus(StrEnum):
    """办理进度: where a certificate is."""

    RECEIVED = "RECEIVED"
    SEALED = "SEALED"
    BATCHED = "BATCHED"
    ANCHORED = "ANCHORED"
    REVOKED = "REVOKED"


class BatchStatus(StrEnum):
    PENDING = "PENDING"
    """Root fixed, not yet confirmed on chain (a transaction may be in flight)."""
    ANCHORED = "ANCHORED"


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
    qr_text: Mapped[str | None] = mapped_column(Text, default=None)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), default=None)
    leaf_index: Mapped[int | None] = mapped_column(Integer, default=None)
    proof: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    revocation_reason: Mapped[int | None] = mapped_column(Integer, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Document(Base):
    """The sealed PDF, apart from the certificate row so listing stays cheap."""

    __tablename__ = "documents"

    certificate_pk: Mapped[int] = mapped_column(ForeignKey("certificates.id"), primary_key=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)


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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # acknowledged means on disk
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def open_store(url: str) -> sessionmaker[Session]:
    """Create the tables if needed and return a session factory."""
    engine: Engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)
