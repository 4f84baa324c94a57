"""Digests both sides compute the same way: document digests and seal-certificate fingerprints."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "certificate_fingerprint",
    "document_digest",
    "file_digest",
    "sealed_revision",
    "sealed_revision_digest",
]

_CHUNK = 1 << 20


def document_digest(data: bytes) -> bytes:
    """SHA-256 of the exact bytes of a sealed certificate PDF."""
    return hashlib.sha256(data).digest()


def sealed_revision(data: bytes, byte_range: Sequence[int]) -> bytes:
    """The PDF up to the end of the revision a signature signs: ``byte_range`` is the
    signature's ``/ByteRange`` ``[0, a, b, c]`` (the signed bytes are ``[0, a)`` and
    ``[b, b + c)``, the signature's ``/Contents`` in between), so the revision ends at
    ``b + c``. Raises ``ValueError`` for a byte range that does not describe that."""
    if len(byte_range) != 4:
        raise ValueError("a /ByteRange has four numbers")
    start, first, second, length = (int(v) for v in byte_range)
    end = second + length
    if start != 0 or not 0 < first < second <= end <= len(data):
        raise ValueError(f"/ByteRange {list(byte_range)} does not fit a {len(data)}-byte file")
    return data[:end]


def sealed_revision_digest(data: bytes, byte_range: Sequence[int]) -> bytes:
    """SHA-256 of ``sealed_revision``: what a version-2 leaf binds."""
    return hashlib.sha256(sealed_revision(data, byte_range)).digest()


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
