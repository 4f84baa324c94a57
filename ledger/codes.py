"""Identifiers shared by every party, and their fixed-size on-chain encodings.

Province codes (``ZJ`` or a GB/T 2260 code such as ``330000``) and issuer ids (a department's
unified social credit code, or another stable code) are ASCII text left-aligned in ``bytes32``;
certificate types (``BUSINESS_LICENCE``) in ``bytes16``, which keeps an anchor in one storage slot.
"""

from __future__ import annotations

import re
from enum import IntEnum

from ledger.errors import InvalidIdentifier

__all__ = [
    "RevocationReason",
    "cert_type_from_bytes",
    "cert_type_to_bytes",
    "issuer_id_from_bytes",
    "issuer_id_to_bytes",
    "province_from_bytes",
    "province_to_bytes",
]

_PROVINCE = re.compile(r"[A-Z0-9]{2,12}")
_ISSUER = re.compile(r"[A-Z0-9][A-Z0-9\-]{0,31}")
_CERT_TYPE = re.compile(r"[A-Z][A-Z0-9_]{0,15}")


class RevocationReason(IntEnum):
    """Revocation reason codes as the registry stores them (values never change)."""

    UNSPECIFIED = 1
    KEY_COMPROMISE = 2
    ISSUED_IN_ERROR = 3
    SUPERSEDED = 4
    CESSATION_OF_OPERATION = 5
    PRIVILEGE_WITHDRAWN = 6
    AUTHORITY_ORDER = 7


def _encode(kind: str, text: str, pattern: re.Pattern[str], size: int) -> bytes:
    if not isinstance(text, str) or not pattern.fullmatch(text):
        raise InvalidIdentifier(f"{kind} {text!r} must match {pattern.pattern}")
    return text.encode("ascii").ljust(size, b"\0")


def _decode(kind: str, raw: bytes, pattern: re.Pattern[str], size: int) -> str:
    if len(raw) != size:
        raise InvalidIdentifier(f"{kind} must be {size} bytes, got {len(raw)}")
    text = raw.rstrip(b"\0")
    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError as exc:
        raise InvalidIdentifier(f"{kind} 0x{raw.hex()} is not ASCII") from exc
    if not pattern.fullmatch(decoded) or b"\0" in text:
        raise InvalidIdentifier(f"{kind} 0x{raw.hex()} is not a valid code")
    return decoded


def province_to_bytes(code: str) -> bytes:
    """``"ZJ"`` → 32 bytes."""
    return _encode("province code", code, _PROVINCE, 32)


def province_from_bytes(raw: bytes) -> str:
    """32 bytes → ``"ZJ"``."""
    return _decode("province code", raw, _PROVINCE, 32)


def issuer_id_to_bytes(issuer_id: str) -> bytes:
    """``"11330000002482000X"`` → 32 bytes."""
    return _encode("issuer id", issuer_id, _ISSUER, 32)


def issuer_id_from_bytes(raw: bytes) -> str:
    """32 bytes → issuer id."""
    return _decode("issuer id", raw, _ISSUER, 32)


def cert_type_to_bytes(cert_type: str) -> bytes:
    """``"BUSINESS_LICENCE"`` → 16 bytes."""
    return _encode("certificate type", cert_type, _CERT_TYPE, 16)


def cert_type_from_bytes(raw: bytes) -> str:
    """16 bytes → certificate type code."""
    return _decode("certificate type", raw, _CERT_TYPE, 16)
