"""The OpenAPI document: every error response is documented as problem details."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.core.errors import TITLES, ProblemDetails

PROBLEM_MEDIA_TYPE = "application/problem+json"
_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route for the error statuses it may answer."""
    return {code: {"description": TITLES.get(code, "Error")} for code in codes}


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
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                _document_problems(operation)
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
