"""Schemathesis fuzzes the whole OpenAPI surface of a real server (``bounty demo`` on a
loopback port, with its worker), signed in as the demo researcher, who has a team in the open
demo round: no answer is a 500, and every answer matches the documented status codes,
content types and response schemas. Bounded: a few examples per operation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app.core.settings import Settings
from app.main import create_app
from app.seed import DEMO_RESEARCHER
from tests.sdk.conftest import new_api_key
from tests.support.servers import NEVER_EVALUATES, DemoServer, demo_server

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The server's own document (it does not depend on the settings).
schema = schemathesis.openapi.from_dict(
    create_app(Settings(environment="test", database_url="sqlite://")).openapi()
)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoServer, str]]:
    # The fuzzer's uploads are not model files: refused before the sandbox, which then
    # never needs its fork server warm (it would start on first use).
    with demo_server(tmp_path_factory.mktemp("fuzz"), sandbox_warm_up=NEVER_EVALUATES) as server:
        yield server, new_api_key(server, *DEMO_RESEARCHER)


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_operation_answers_500_or_off_its_documented_schema(
    case: Any, target: tuple[DemoServer, str]
) -> None:
    server, key = target
    if case.path == "/api/v1/auth/logout":
        return  # would only end a session; the fuzz signs in with an API key
    case.call_and_validate(
        base_url=server.url, headers={"Authorization": f"Bearer {key}"}, checks=CHECKS
    )
