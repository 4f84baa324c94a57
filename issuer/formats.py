"""The document formats a certificate is issued in: the PAdES PDF (ECDSA e-seal) and the OFD
(GB/T 33190, SM2 e-seal per GB/T 38540). Both come from one record and one leaf
(``ledger.leaf`` version 3), so one anchor covers them."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["BOTH", "PDF_ONLY", "Format", "format_text", "parse_formats"]


class Format(StrEnum):
    PDF = "pdf"
    OFD = "ofd"


PDF_ONLY: tuple[Format, ...] = (Format.PDF,)
BOTH: tuple[Format, ...] = (Format.PDF, Format.OFD)


def parse_formats(value: str | Iterable[str]) -> tuple[Format, ...]:
    """``"pdf,ofd"`` (or a list of names) as formats in their one order (PDF first);
    ``ValueError`` naming the problem for an empty list or an unknown name."""
    names = value.split(",") if isinstance(value, str) else list(value)
    chosen: set[Format] = set()
    for name in names:
        cleaned = name.strip().lower()
        if not cleaned:
            continue
        try:
            chosen.add(Format(cleaned))
        except ValueError as exc:
            raise ValueError(f"unknown format {name!r} (known: pdf, ofd)") from exc
    if not chosen:
        raise ValueError("name at least one format: pdf, ofd")
    return tuple(f for f in Format if f in chosen)


def format_text(formats: Iterable[Format]) -> str:
    """``"pdf,ofd"``: how formats are stored and shown."""
    return ",".join(f.value for f in Format if f in set(formats))
