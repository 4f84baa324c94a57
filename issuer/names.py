"""Which claims of a certificate name the person or body it is about (a company's ``name``, a
graduate's ``holder_name``, a property's ``owner``...): what the department console searches
when a clerk looks a certificate up by holder name."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from ledger.catalogue import catalogue

__all__ = ["holder_name_keys", "holder_names", "normalise_name"]


def holder_name_keys(cert_type: str) -> tuple[str, ...]:
    """The text fields of ``cert_type`` that hold a name: ``name``, ``owner`` and every key
    ending in ``name`` (``holder_name``, ``child_name``, ``mother_name``...)."""
    spec = catalogue().get(cert_type)
    if spec is None:
        return ()
    return tuple(
        f.key
        for f in spec.fields
        if f.format == "text" and (f.key in ("name", "owner") or f.key.endswith("name"))
    )


def normalise_name(text: str) -> str:
    """NFKC, lower case, no spaces: full-width letters, stray spaces and case do not matter."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def holder_names(cert_type: str, claims: Mapping[str, str]) -> str:
    """The record's names as stored for searching: normalised, one a line."""
    return "\n".join(
        normalise_name(claims[k]) for k in holder_name_keys(cert_type) if claims.get(k)
    )
