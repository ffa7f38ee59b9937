"""The OpenAPI document is complete: descriptions, tags, examples and problem details."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.settings import Settings
from app.main import create_app

PROBLEM_REF = "#/components/schemas/ProblemDetails"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    app = create_app(Settings(environment="test", database_url="sqlite://"))
    document: dict[str, Any] = app.openapi()
    return document


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    ]


def _documented(prop: dict[str, Any]) -> bool:
    """Whether a property shows an example value (its own, or its referenced schema's)."""
    if any(key in prop for key in ("examples", "example", "const", "$ref", "enum")):
        return True
    if prop.get("format") == "binary" or "contentMediaType" in prop:  # a file upload
        return True
    if prop.get("type") == "array":
        return _documented(prop.get("items", {}))
    variants = prop.get("anyOf") or prop.get("allOf") or []
    non_null = [v for v in variants if v.get("type") != "null"]
    return bool(non_null) and all(_documented(v) for v in non_null)


def test_every_operation_has_a_summary_description_and_tag(spec: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, op in _operations(spec)
        if not (op.get("summary") and op.get("description") and op.get("tags"))
    ]
    assert missing == []


def test_every_property_of_every_schema_has_an_example(spec: dict[str, Any]) -> None:
    missing = [
        f"{name}.{prop}"
        for name, schema in spec["components"]["schemas"].items()
        for prop, sub in schema.get("properties", {}).items()
        if not _documented(sub)
    ]
    assert missing == []


def test_every_error_response_is_documented_as_problem_details(spec: dict[str, Any]) -> None:
    wrong = []
    for method, path, op in _operations(spec):
        for code, response in op["responses"].items():
            if int(code) < 400:
                continue
            content = response.get("content", {})
            schema = content.get("application/problem+json", {}).get("schema", {})
            if schema.get("$ref") != PROBLEM_REF or set(content) != {"application/problem+json"}:
                wrong.append(f"{method} {path} {code}")
    assert wrong == []
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    problem = spec["components"]["schemas"]["ProblemDetails"]
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["required"])


def test_operations_that_validate_input_document_the_422(spec: dict[str, Any]) -> None:
    lacking = [
        f"{method} {path}"
        for method, path, op in _operations(spec)
        if (op.get("parameters") or op.get("requestBody")) and "422" not in op["responses"]
    ]
    assert lacking == []
