"""The OpenAPI document, written for client generators as well as for people.

- Every error response is documented as problem details, and every problem type (its type URI,
  status and title) is listed in the document's ``x-problem-types``.
- Uploads are ``type: string, format: binary``: the form generators (openapi-python-client,
  openapi-generator) turn into a file parameter. FastAPI writes OpenAPI 3.1's
  ``contentMediaType`` instead, which they read as a plain string.
- Every download and the event stream declare their media type with a schema: binary files
  are ``format: binary``, text formats are strings.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.core.errors import TITLES, Problem, ProblemDetails

PROBLEM_MEDIA_TYPE = "application/problem+json"
_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route for the error statuses it may answer."""
    return {code: {"description": TITLES.get(code, "Error")} for code in codes}


def problem_types() -> list[dict[str, Any]]:
    """Every problem type the API answers with (``Problem.types``): its type URI, status and
    title, for the document's ``x-problem-types``."""
    return [
        {"type": kind.type_uri(), "status": kind.status, "title": kind.title}
        for _, kind in sorted(Problem.types.items())
    ]


def install_openapi(app: FastAPI) -> None:
    """Generate the app's document with problem details for every error status, including
    the 422 of request validation (FastAPI would document its own error shape there)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name in _FASTAPI_VALIDATION:
            schemas.pop(name, None)
        problem = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem.pop("$defs", {}))
        schemas["ProblemDetails"] = problem
        for schema in schemas.values():
            _binary_uploads(schema)
        seen: set[str] = set()
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                _document_problems(operation)
                _document_downloads(operation)
                if operation["operationId"] in seen:
                    raise RuntimeError(f"two operations are named {operation['operationId']}")
                seen.add(operation["operationId"])
        document["x-problem-types"] = problem_types()
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _document_problems(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if operation.get("parameters") or operation.get("requestBody"):
        responses.setdefault("422", {"description": TITLES[422]})
    if operation.get("requestBody"):
        responses.setdefault("400", {"description": "The body could not be parsed."})
    for code, response in responses.items():
        if code.isdigit() and int(code) >= 400:
            if response.get("description") in (None, "", "Validation Error"):
                response["description"] = TITLES.get(int(code), "Error")
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}


def _binary_uploads(schema: Any) -> None:
    """Rewrite, in place, every file field of a form schema as ``format: binary``."""
    if isinstance(schema, dict):
        if schema.get("contentMediaType") == "application/octet-stream":
            del schema["contentMediaType"]
            schema["format"] = "binary"
        for value in schema.values():
            _binary_uploads(value)
    elif isinstance(schema, list):
        for item in schema:
            _binary_uploads(item)


def _document_downloads(operation: dict[str, Any]) -> None:
    """Give every successful response's media type without a schema one: text or binary. A
    binary download other than ``application/octet-stream`` also lists that type, which
    generators that only know it (openapi-python-client) read as bytes; the server still
    labels the body with its own type, the first one listed."""
    for code, response in operation.get("responses", {}).items():
        if not code.startswith("2"):
            continue
        content: dict[str, Any] = response.get("content", {})
        for media_type, entry in list(content.items()):
            if entry.get("schema"):
                continue
            if media_type.startswith("text/"):
                entry["schema"] = {"type": "string"}
            else:
                entry["schema"] = {"type": "string", "format": "binary"}
                content.setdefault(OCTET_STREAM, {"schema": entry["schema"]})


OCTET_STREAM = "application/octet-stream"
