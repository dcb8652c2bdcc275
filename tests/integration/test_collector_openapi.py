"""openapi.yaml against the local collector on a real broker, with schemathesis.

Every operation gets its examples, boundary cases and fuzzed requests (up to 50 generated per
operation), and every response is checked: no 5xx, status, headers and body as the spec says,
methods the spec does not list answered 405, and requests outside the schema refused with one
of the 4xx the spec gives for them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from kafka_harness import collector_fixture  # noqa: F401 (a fixture)
from schemathesis.config import SchemathesisConfig

pytestmark = pytest.mark.integration

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": ["400", "413", "415"]}}}
)
schema = schemathesis.openapi.from_path(OPENAPI, config=CONFIG)


# Up to 50 generated requests per operation; one collector (and its topics) serves every
# generated request of an operation.
GENERATED = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# One test function per operation: schemathesis gives every operation of one parametrized
# function the same test id, and pytest-xdist then reports only one of them.
# GET /v1/recommendations: tests/integration/test_recommendations_openapi.py.
TESTED_OPERATIONS = {"POST /v1/events", "GET /v1/health", "GET /v1/recommendations"}


@schema.include(name="POST /v1/events").parametrize()
@GENERATED
def test_post_events_conforms_to_openapi(case: schemathesis.Case, collector: str) -> None:
    case.call_and_validate(base_url=collector)


@schema.include(name="GET /v1/health").parametrize()
@GENERATED
def test_get_health_conforms_to_openapi(case: schemathesis.Case, collector: str) -> None:
    case.call_and_validate(base_url=collector)


def test_every_operation_of_the_spec_has_its_test() -> None:
    assert {result.ok().label for result in schema.get_all_operations()} == TESTED_OPERATIONS
