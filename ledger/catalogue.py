"""The certificate-type catalogue (``catalogue/cert_types.json``) and validation of records.

The catalogue is data, not code: each type lists its fields with Chinese and English labels, a
format, whether it is required and whether it is personal data (which decides what a holder may
withhold and what must never leave the certificate). Validation reports every bad field of a
record at once, by field key, so a department can fix a batch in one pass.

The order of the types, and of each type's fields, is part of the holder presentation layout
(``ledger.presentation`` writes a type and a field as its position here): add at the end, never
reorder or remove.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources

from ledger.codes import cert_type_to_bytes
from ledger.errors import LedgerError
from ledger.idcodes import is_valid_citizen_id, is_valid_social_credit_code

__all__ = [
    "CertTypeSpec",
    "ClaimsInvalid",
    "FieldError",
    "FieldSpec",
    "catalogue",
    "hidden_character",
    "validate",
]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}
"""Unicode categories refused in claims: controls (including tab and line feed: every field is
one line), format characters (the bidirectional overrides such as U+202E that make a text read
differently than it is stored, zero-width joiners, BOMs), lone surrogates and line/paragraph
separators. Ordinary and ideographic spaces (Zs) and private-use characters (Co, which some
civil registries use for rare characters in names) are allowed."""
_FORMATS = {"text", "date", "uscc", "citizen_id", "party_id", "decimal", "enum"}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a certificate type."""

    key: str
    label_zh: str
    label_en: str
    format: str
    """``text``, ``date`` (YYYY-MM-DD), ``uscc``, ``citizen_id``, ``party_id`` (either),
    ``decimal`` or ``enum``."""
    required: bool
    personal: bool
    """Personal data: withheld unless the holder discloses it; never on chain."""
    max_length: int = 200
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CertTypeSpec:
    """A certificate type and its fields, in display order."""

    code: str
    name_zh: str
    name_en: str
    validity: str
    """``none`` (never expires), ``optional`` or ``required`` end of validity."""
    number_prefix: str
    """Two letters in certificate numbers of this type, e.g. ``BL`` in ``2026BL00000042``."""
    fields: tuple[FieldSpec, ...]

    def field(self, key: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.key == key), None)


@dataclass(frozen=True, slots=True)
class FieldError:
    """Why one field of a record was refused."""

    field: str
    message: str


class ClaimsInvalid(LedgerError, ValueError):
    """A record does not fit its certificate type; ``errors`` names every bad field."""

    def __init__(self, cert_type: str, errors: list[FieldError]) -> None:
        self.cert_type = cert_type
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


@cache
def catalogue() -> dict[str, CertTypeSpec]:
    """Every certificate type by code."""
    raw = json.loads(
        resources.files("ledger").joinpath("catalogue/cert_types.json").read_text("utf-8")
    )
    types: dict[str, CertTypeSpec] = {}
    for entry in raw["types"]:
        cert_type_to_bytes(entry["code"])  # the code must fit the registry encoding
        fields = tuple(
            FieldSpec(
                key=f["key"],
                label_zh=f["label_zh"],
                label_en=f["label_en"],
                format=f["format"],
                required=bool(f["required"]),
                personal=bool(f["personal"]),
                max_length=int(f.get("max_length", 200)),
                options=tuple(f.get("options", ())),
            )
            for f in entry["fields"]
        )
        unknown = {f.format for f in fields} - _FORMATS
        if unknown:
            raise LedgerError(f"catalogue type {entry['code']}: unknown formats {unknown}")
        types[entry["code"]] = CertTypeSpec(
            code=entry["code"],
            name_zh=entry["name_zh"],
            name_en=entry["name_en"],
            validity=entry["validity"],
            number_prefix=entry["number_prefix"],
            fields=fields,
        )
    return types


def hidden_character(value: str) -> str | None:
    """A message naming the first control or formatting character in ``value`` (see
    ``_HIDDEN``), or ``None`` if it has none."""
    for position, char in enumerate(value, start=1):
        if unicodedata.category(char) in _HIDDEN:
            name = unicodedata.name(char, "a control character")
            return (
                f"contains U+{ord(char):04X} ({name}) at character {position}; control and "
                "formatting characters are not allowed"
            )
    return None


def _check(spec: FieldSpec, value: str) -> str | None:
    """An error message for ``value``, or ``None`` if it fits ``spec``."""
    if hidden := hidden_character(value):
        return hidden
    if len(value) > spec.max_length:
        return f"longer than {spec.max_length} characters"
    if spec.format == "date":
        if not _DATE.fullmatch(value):
            return "must be a date written YYYY-MM-DD"
        try:
            date.fromisoformat(value)
        except ValueError:
            return "is not a real date"
    elif spec.format == "uscc" and not is_valid_social_credit_code(value):
        return "is not a valid unified social credit code (GB 32100 check character)"
    elif spec.format == "citizen_id" and not is_valid_citizen_id(value):
        return "is not a valid citizen ID number (GB 11643 check digit or date)"
    elif spec.format == "party_id" and not (
        is_valid_citizen_id(value) or is_valid_social_credit_code(value)
    ):
        return "is neither a valid citizen ID number nor a unified social credit code"
    elif spec.format == "decimal":
        try:
            number = Decimal(value)
        except InvalidOperation:
            return "must be a number"
        if not number.is_finite() or number <= 0:
            return "must be a positive number"
    elif spec.format == "enum" and value not in spec.options:
        return f"must be one of {', '.join(spec.options)}"
    return None


def validate(cert_type: str, record: Mapping[str, object]) -> dict[str, str]:
    """The record's claims, trimmed, in catalogue order; raises ``ClaimsInvalid`` listing every
    missing, unknown or malformed field."""
    spec = catalogue().get(cert_type)
    if spec is None:
        raise ClaimsInvalid(cert_type, [FieldError("cert_type", f"unknown type {cert_type!r}")])
    errors: list[FieldError] = []
    claims: dict[str, str] = {}
    for key in record:
        if spec.field(key) is None:
            errors.append(FieldError(key, "is not a field of this certificate type"))
    for field in spec.fields:
        raw = record.get(field.key)
        value = "" if raw is None else str(raw).strip()
        if not value:
            if field.required:
                errors.append(FieldError(field.key, "is required"))
            continue
        problem = _check(field, value)
        if problem:
            errors.append(FieldError(field.key, problem))
        else:
            claims[field.key] = value
    if errors:
        raise ClaimsInvalid(cert_type, errors)
    return claims
