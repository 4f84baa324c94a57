"""Per-department API tokens: shown once at creation, stored only as SHA-256, scoped to one
issuer and a set of certificate types, with an expiry; listed and revoked by label."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from issuer.store import ApiToken, aware, utcnow
from ledger.catalogue import catalogue
from ledger.codes import issuer_id_to_bytes
from ledger.errors import LedgerError

__all__ = [
    "Caller",
    "TokenError",
    "TokenInfo",
    "authenticate",
    "create_token",
    "list_tokens",
    "revoke_token",
]

_PREFIX = "ecert_"


class TokenError(LedgerError, ValueError):
    """A token that cannot be made as asked (unknown type, expiry in the past...)."""


@dataclass(frozen=True)
class Caller:
    """Who is calling the issuer API."""

    issuer_id: str
    cert_types: frozenset[str]
    label: str
    expires_at: datetime | None = None
    """When the token stops working (``None``: never)."""

    @property
    def actor(self) -> str:
        return f"token:{self.issuer_id}:{self.label}"


@dataclass(frozen=True)
class TokenInfo:
    """What ``ecert token list`` shows of a token: never the token or its hash."""

    issuer_id: str
    label: str
    cert_types: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime | None = None) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return "expired"
        return "active"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    sessions: sessionmaker[Session],
    issuer_id: str,
    cert_types: Sequence[str],
    label: str,
    *,
    expires_at: datetime | None = None,
) -> str:
    """A new token (returned once, never stored in clear); it stops working at
    ``expires_at`` (``None``: when revoked)."""
    issuer_id_to_bytes(issuer_id)
    unknown = sorted(set(cert_types) - set(catalogue()))
    if unknown:
        raise TokenError(
            f"unknown certificate type {', '.join(unknown)} (known: {', '.join(catalogue())})"
        )
    if not cert_types:
        raise TokenError("name at least one certificate type")
    if expires_at is not None and aware(expires_at) <= utcnow():
        raise TokenError("the expiry must be in the future")
    if not label.strip() or len(label) > 64:
        raise TokenError("a label is 1 to 64 characters")
    token = _PREFIX + secrets.token_urlsafe(32)
    with sessions() as session:
        session.add(
            ApiToken(
                token_hash=_digest(token),
                issuer_id=issuer_id,
                cert_types=",".join(sorted(set(cert_types))),
                label=label,
                expires_at=expires_at,
            )
        )
        session.commit()
    return token


def authenticate(sessions: sessionmaker[Session], token: str) -> Caller | None:
    """The caller a token stands for, or ``None`` if it is unknown, revoked or expired."""
    if not token.startswith(_PREFIX) or len(token) > 200:
        return None
    with sessions() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
        if row is None or row.revoked_at is not None:
            return None
        expires = aware(row.expires_at) if row.expires_at is not None else None
        if expires is not None and expires <= utcnow():
            return None
        return Caller(
            row.issuer_id,
            frozenset(filter(None, row.cert_types.split(","))),
            row.label,
            expires,
        )


def list_tokens(sessions: sessionmaker[Session], issuer_id: str | None = None) -> list[TokenInfo]:
    """Every token of ``issuer_id`` (all departments: ``None``), oldest first."""
    with sessions() as session:
        query = select(ApiToken).order_by(ApiToken.id)
        if issuer_id is not None:
            query = query.where(ApiToken.issuer_id == issuer_id)
        return [
            TokenInfo(
                issuer_id=row.issuer_id,
                label=row.label,
                cert_types=tuple(filter(None, row.cert_types.split(","))),
                created_at=aware(row.created_at),
                expires_at=aware(row.expires_at) if row.expires_at is not None else None,
                revoked_at=aware(row.revoked_at) if row.revoked_at is not None else None,
            )
            for row in session.scalars(query)
        ]


def revoke_token(sessions: sessionmaker[Session], issuer_id: str, label: str) -> int:
    """Revoke every live token of ``issuer_id`` with ``label``; returns how many."""
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
