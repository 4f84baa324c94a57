"""The issuer API's OpenAPI document, with the certificate catalogue in it: for every type a
schema of its claim keys (labels, formats, which are required and which are personal data) and
a ready example of a submission, so a department's developer needs nothing but ``/docs``.

The route itself accepts ``claims`` as a plain mapping and checks it against the catalogue
(every bad field named); these schemas document what that check wants."""

from __future__ import annotations

import random
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from issuer.samples import sample_record
from ledger.catalogue import CertTypeSpec, FieldSpec, catalogue

__all__ = ["install_catalogue_openapi", "submission_examples"]

# Only what the catalogue's own check says exactly; check characters are described in words.
_FORMATS: dict[str, dict[str, Any]] = {"date": {"format": "date"}}
_FORMAT_WORDS = {
    "text": "text",
    "date": "date, YYYY-MM-DD",
    "uscc": "unified social credit code (GB 32100, check character verified)",
    "citizen_id": "citizen ID number (GB 11643, check digit verified)",
    "party_id": "citizen ID number or unified social credit code",
    "decimal": "positive number",
    "enum": "one of the listed values",
}


def _field_schema(spec: FieldSpec) -> dict[str, Any]:
    words = f"{spec.label_zh} / {spec.label_en} — {_FORMAT_WORDS[spec.format]}"
    if spec.personal:
        words += "; personal data (个人信息): never on chain, withheld unless the holder shows it"
    schema: dict[str, Any] = {
        "type": "string",
        "title": spec.label_zh,
        "description": words,
        "maxLength": spec.max_length,
        **_FORMATS.get(spec.format, {}),
    }
    if spec.options:
        schema["enum"] = list(spec.options)
    return schema


def _sample(spec: CertTypeSpec) -> dict[str, Any]:
    item: dict[str, Any] = {
        "reference": f"CASE-{spec.number_prefix}-0001",
        "cert_type": spec.code,
        "claims": sample_record(spec.code, random.Random(spec.code)),  # noqa: S311 (fictitious data)
    }
    if spec.validity != "none":
        item["valid_until"] = "2036-12-31"
    return item


def submission_examples() -> dict[str, dict[str, Any]]:
    """One example request body per certificate type (fictitious data), for ``/docs``."""
    return {
        code: {
            "summary": f"{spec.name_zh} / {spec.name_en}",
            "value": {"certificates": [_sample(spec)]},
        }
        for code, spec in catalogue().items()
    }


def _type_schemas(base: dict[str, Any]) -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {}
    for code, spec in catalogue().items():
        schemas[f"Claims_{code}"] = {
            "type": "object",
            "title": f"{spec.name_zh} / {spec.name_en}: claims",
            "description": f"Claim keys of {code} (certificate numbers {spec.number_prefix}).",
            "properties": {f.key: _field_schema(f) for f in spec.fields},
            "required": [f.key for f in spec.fields if f.required],
            "additionalProperties": False,
        }
        properties = dict(base.get("properties", {}))
        properties["cert_type"] = {"type": "string", "const": code, "title": "Cert Type"}
        properties["claims"] = {"$ref": f"#/components/schemas/Claims_{code}"}
        until = {
            "none": "Not allowed: this type never expires.",
            "optional": "Optional last day of validity (YYYY-MM-DD).",
            "required": "Required last day of validity (YYYY-MM-DD).",
        }[spec.validity]
        properties["valid_until"] = {**properties.get("valid_until", {}), "description": until}
        required = sorted({*base.get("required", []), "cert_type", "claims"})
        if spec.validity == "required":
            required.append("valid_until")
        schemas[f"Certificate_{code}"] = {
            "type": "object",
            "title": f"{spec.name_zh} / {spec.name_en}",
            "properties": properties,
            "required": required,
        }
    return schemas


def _with_catalogue(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    base = components.get("CertificateIn", {})
    components.update(_type_schemas(base))
    items = {
        "oneOf": [{"$ref": f"#/components/schemas/Certificate_{code}"} for code in catalogue()],
        "discriminator": {
            "propertyName": "cert_type",
            "mapping": {code: f"#/components/schemas/Certificate_{code}" for code in catalogue()},
        },
    }
    submit = components.get("SubmitIn", {}).get("properties", {}).get("certificates")
    if submit is not None:
        submit["items"] = items
    return schema


def install_catalogue_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (``/openapi.json``, ``/docs``) document every certificate type."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            app.openapi_schema = _with_catalogue(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
