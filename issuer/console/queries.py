"""What the console reads from the store, always within one department and the certificate
types of its token: certificate lists and searches, one upload's progress, the audit trail."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from issuer.names import holder_name_keys, normalise_name
from issuer.store import AuditEntry, Certificate, CertStatus, ProgressEvent, Upload, aware
from issuer.tokens import Caller

__all__ = [
    "CertificateDetail",
    "CertificateRow",
    "Search",
    "audit_trail",
    "certificate_detail",
    "find_certificates",
    "upload_of",
    "upload_progress",
]

PAGE = 50


@dataclass(frozen=True)
class Search:
    number: str = ""
    holder: str = ""
    status: str = ""
    page: int = 1

    @property
    def empty(self) -> bool:
        return not (self.number or self.holder or self.status)


@dataclass(frozen=True)
class CertificateRow:
    certificate_id: str
    cert_type: str
    status: str
    holder: str
    """The first name claim (company, graduate, owner...), as issued."""
    updated_at: datetime


def _scoped(query: Select[Any], who: Caller) -> Select[Any]:
    return query.where(
        Certificate.issuer_id == who.issuer_id,
        Certificate.cert_type.in_(sorted(who.cert_types)),
        ~Certificate.certificate_id.startswith("pending-"),
    )


def find_certificates(
    sessions: sessionmaker[Session], who: Caller, search: Search
) -> tuple[list[CertificateRow], int]:
    """One page of the department's certificates matching ``search`` (newest first), and how
    many match in all."""
    query = _scoped(select(Certificate), who)
    if search.number:
        number = search.number.strip().upper()
        query = query.where(
            or_(
                Certificate.certificate_id == number,
                Certificate.certificate_id.startswith(number, autoescape=True),
                Certificate.reference == search.number.strip(),
            )
        )
    if search.holder:
        query = query.where(
            Certificate.holder_names.contains(normalise_name(search.holder), autoescape=True)
        )
    if search.status in set(CertStatus):
        query = query.where(Certificate.status == search.status)
    with sessions() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        certs = session.scalars(
            query.order_by(Certificate.id.desc())
            .limit(PAGE)
            .offset(PAGE * (max(search.page, 1) - 1))
        ).all()
        rows = []
        for cert in certs:
            keys = holder_name_keys(cert.cert_type)
            holder = next((str(cert.claims[k]) for k in keys if cert.claims.get(k)), "")
            rows.append(
                CertificateRow(
                    cert.certificate_id, cert.cert_type, cert.status, holder, aware(cert.updated_at)
                )
            )
    return rows, int(total)


def upload_of(sessions: sessionmaker[Session], who: Caller, upload_id: int) -> Upload | None:
    """The upload if it is this department's (of a type of this token), else ``None``."""
    with sessions() as session:
        upload = session.get(Upload, upload_id)
    if (
        upload is None
        or upload.issuer_id != who.issuer_id
        or upload.cert_type not in who.cert_types
    ):
        return None
    return upload


def upload_progress(sessions: sessionmaker[Session], upload: Upload) -> dict[str, int]:
    """How many of the upload's certificates are at each status."""
    numbers: Sequence[str] = upload.certificate_ids.get("ids", [])
    counts: Counter[str] = Counter()
    with sessions() as session:
        for start in range(0, len(numbers), 500):
            chunk = list(numbers[start : start + 500])
            for status, count in session.execute(
                select(Certificate.status, func.count())
                .where(
                    Certificate.issuer_id == upload.issuer_id,
                    Certificate.certificate_id.in_(chunk),
                )
                .group_by(Certificate.status)
            ):
                counts[str(status)] += int(count)
    return dict(counts)


def audit_trail(
    sessions: sessionmaker[Session], who: Caller, page: int = 1
) -> tuple[list[AuditEntry], int]:
    """The department's audit entries, newest first, one page at a time."""
    mine = or_(
        AuditEntry.subject == who.issuer_id,
        AuditEntry.subject.startswith(f"{who.issuer_id}/", autoescape=True),
    )
    with sessions() as session:
        total = session.scalar(select(func.count()).where(mine)) or 0
        entries = session.scalars(
            select(AuditEntry)
            .where(mine)
            .order_by(AuditEntry.seq.desc())
            .limit(PAGE)
            .offset(PAGE * (max(page, 1) - 1))
        ).all()
    return list(entries), int(total)


@dataclass(frozen=True)
class CertificateDetail:
    view: dict[str, Any]
    claims: dict[str, str]
    progress: list[tuple[str, datetime, str]]


def certificate_detail(
    sessions: sessionmaker[Session], who: Caller, number: str
) -> CertificateDetail | None:
    """One certificate of this department and token, with its claims and progress trail;
    ``None`` for any other (another department's, another type's, or none at all)."""
    with sessions() as session:
        cert = session.scalars(
            _scoped(select(Certificate), who).where(Certificate.certificate_id == number)
        ).first()
        if cert is None:
            return None
        events = session.scalars(
            select(ProgressEvent)
            .where(ProgressEvent.certificate_pk == cert.id)
            .order_by(ProgressEvent.id)
        ).all()
        view = {
            "certificate_id": cert.certificate_id,
            "cert_type": cert.cert_type,
            "reference": cert.reference,
            "status": cert.status,
            "failure_reason": cert.failure_reason,
            "revocation_reason": cert.revocation_reason,
            "proof": cert.proof,
            "qr": cert.qr_text,
            "formats": (cert.formats or "pdf").split(","),
        }
        claims = {str(k): str(v) for k, v in cert.claims.items()}
        trail = [(e.status, aware(e.at), e.detail) for e in events]
    return CertificateDetail(view, claims, trail)
