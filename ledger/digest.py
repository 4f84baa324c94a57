"""Digests both sides compute the same way: document digests and seal-certificate fingerprints."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["certificate_fingerprint", "document_digest", "file_digest"]

_CHUNK = 1 << 20


def document_digest(data: bytes) -> bytes:
    """SHA-256 of the exact bytes of a sealed certificate PDF."""
    return hashlib.sha256(data).digest()


def file_digest(path: Path) -> bytes:
    """``document_digest`` of a file, read in chunks so large files need little memory."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.digest()


def certificate_fingerprint(der: bytes) -> bytes:
    """SHA-256 of a DER-encoded X.509 certificate, as the registry lists seal certificates."""
    return hashlib.sha256(der).digest()
