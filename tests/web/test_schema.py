"""The JSON API against its own OpenAPI schema, with schemathesis generating the calls.

Every operation gets valid and invalid bodies and parameters, with a staff key: no answer
may be a 500, and every answer must be documented (status, content type, body schema).
`positive_data_acceptance` is left out: a body can fit the schema and still name a company
that does not exist, which is a documented 422, not a fault.
"""

from __future__ import annotations

import asyncio

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.web.conftest import STAFF_KEY
from web.app import create_app

# Raised inside schemathesis' own strategies (it draws from `random`), not by this project.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

started: list[int] = []


async def record_launch(request_id: int) -> asyncio.Task[object] | None:
    """Note the onboarding instead of running it: this test is about the HTTP contract."""
    started.append(request_id)
    return None


# Loaded once at import (schemathesis' `from_fixture` relies on pytest internals that pytest
# 9 no longer has); the app reads its settings per call, so the fixtures below still apply.
schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(launch=record_launch))


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_to_its_schema(case: schemathesis.Case, store, staff_key) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(
        headers={"X-API-Key": STAFF_KEY}, excluded_checks=[positive_data_acceptance]
    )
