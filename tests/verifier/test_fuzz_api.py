"""The verifier service fuzzed from its own OpenAPI schema (schemathesis), over real HTTP on
127.0.0.1: for every operation, cases generated from the schema (valid ones and, in negative
mode, ones that break it) never get a server error, and every answer matches its documented
shape and content type.

Schemathesis' pytest plugin does not run under pytest 9, so the cases are drawn here with
Hypothesis from each operation's strategy."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from schemathesis.openapi import from_url

from tests.integration.servers import ServiceProcess

pytestmark = pytest.mark.anvil

OPERATIONS = [
    "POST /api/v1/verify",
    "GET /v/{payload}",
    "GET /",
    "POST /verify",
    "GET /healthz",
    "GET /metrics",
]


# Negative cases (inputs that break the schema) exist only where there are inputs.
WITH_INPUTS = OPERATIONS[:4]
CASES = [(label, GenerationMode.POSITIVE) for label in OPERATIONS] + [
    (label, GenerationMode.NEGATIVE) for label in WITH_INPUTS
]


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_no_server_errors_from_anything_the_schema_allows_or_forbids(
    service: ServiceProcess, label: str, mode: GenerationMode
) -> None:
    schema = from_url(f"{service.url}/openapi.json")
    operations = {op.label: op for op in (r.ok() for r in schema.get_all_operations())}
    assert set(OPERATIONS) <= set(operations), sorted(operations)
    calls: list[int] = []

    @given(case=st.data())
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: st.DataObject) -> None:
        drawn = case.draw(operations[label].as_strategy(generation_mode=mode))
        response = drawn.call(base_url=service.url, timeout=30)
        calls.append(response.status_code)
        checks = [not_a_server_error]
        if mode is GenerationMode.POSITIVE:
            checks += [response_schema_conformance, content_type_conformance]
        drawn.validate_response(response, checks=checks)

    run()
    assert calls, "no case was generated"
    assert all(code < 500 for code in calls), calls
