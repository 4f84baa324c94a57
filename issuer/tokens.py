"""Per-department API tokens: shown once at creation, stored only as SHA-256, scoped to one
issuer and a set of certificate types."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from issuer.store import ApiToken, utcnow
from ledger.codes import cert_type_to_bytes, issuer_id_to_bytes

__all__ = ["Caller", "authenticate", "create_token", "revoke_token"]

_PREFIX = "ecert_"


@dataclass(frozen=True)
class Caller:
    """Who is calling the issuer API."""

    issuer_id: str
    cert_types: frozenset[str]
    label: str

    @property
    def actor(self) -> str:
        return f"token:{self.issuer_id}:{self.label}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    sessions: sessionmaker[Session], issuer_id: str, cert_types: Sequence[str], label: str
) -> str:
    """A new token (returned once, never stored in clear)."""
    issuer_id_to_bytes(issuer_id)
    for cert_type in cert_types:
        cert_type_to_bytes(cert_type)
    token = _PREFIX + secrets.token_urlsafe(32)
    with sessions() as session:
        session.add(
            ApiToken(
                token_hash=_digest(token),
                issuer_id=issuer_id,
                cert_types=",".join(sorted(set(cert_types))),
                label=label,
            )
        )
        session.commit()
    return token


def authenticate(sessions: sessionmaker[Session], token: str) -> Caller | None:
    if not token.startswith(_PREFIX) or len(token) > 200:
        return None
    with sessions() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
        if row is None or row.revoked_at is not None:
            return None
        return Caller(row.issuer_id, frozenset(filter(None, row.cert_types.split(","))), row.label)


def revoke_token(sessions: sessionmaker[Session], issuer_id: str, label: str) -> int:
    with sessions() as session:
        rows = session.scalars(
            select(ApiToken).where(
                ApiToken.issuer_id == issuer_id,
                ApiToken.label == label,
                ApiToken.revoked_at.is_(None),
            )
        ).all()
        for row in rows:
            row.revoked_at = utcnow()
        session.commit()
        return len(rows)
