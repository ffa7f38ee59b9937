"""Errors as RFC 9457 problem details (``application/problem+json``), for every response."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.storage import StorageError
from bounty_engine.errors import EngineError

log = logging.getLogger("bounty.errors")

STORAGE_RETRY_SECONDS = 60  # what a client is told to wait after a storage failure
DATABASE_RETRY_SECONDS = 2
EVALUATION_RETRY_SECONDS = 10  # ... after the machine failed to run an upload's check

PROBLEM_TYPE_BASE = "/problems/"
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
    507: "Insufficient storage",
}


class ProblemError(BaseModel):
    """One cause of a 422: which field or input position, and what is wrong there."""

    model_config = ConfigDict(extra="allow")

    message: str = Field(examples=["unknown feature 'agee' (did you mean 'age'?)"])
    field: str | None = Field(default=None, examples=["group_expression"])
    location: list[str | int] | None = Field(
        default=None, description="Where in the request (validation errors).", examples=[["body"]]
    )
    offset: int | None = Field(
        default=None, description="0-based character offset in an expression.", examples=[0]
    )
    line: int | None = Field(default=None, description="1-based line.", examples=[1])
    column: int | None = Field(default=None, description="1-based column.", examples=[1])


class ProblemDetails(BaseModel):
    """Every error of the API, as RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        description="A stable identifier of the kind of problem; branch on this.",
        examples=["/problems/unknown-feature"],
    )
    title: str = Field(description="The HTTP status in words.", examples=["Unprocessable content"])
    status: int = Field(examples=[422])
    detail: str = Field(
        description="What went wrong, for people.",
        examples=["unknown feature 'agee' (did you mean 'age'?)"],
    )
    instance: str = Field(
        description="The request path.",
        examples=["/api/v1/rounds/adult-income-demo/submissions"],
    )
    request_id: str | None = Field(
        default=None,
        description="Quote it when reporting a problem; the server logs it.",
        examples=["5b1f0c6e2f6a4a8b9d1e3c7a2b4d6f80"],
    )
    errors: list[ProblemError] | None = Field(
        default=None, description="The causes of a 422, with positions in expressions."
    )


class Problem(Exception):  # noqa: N818 (it is the RFC's name for it)
    """An error answered as a problem details document.

    ``slug`` becomes the stable ``type`` URI; ``extra`` members are added to the document
    (for example ``errors`` with positions, or ``remaining`` quota).
    """

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    request: Request,
    status: int,
    slug: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem details response for ``request``."""
    body = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(
        body, status_code=status, headers=headers, media_type="application/problem+json"
    )


def _slug_for(status: int) -> str:
    return TITLES.get(status, "error").lower().replace(" ", "-")


def engine_problem(exc: EngineError, *, field: str | None = None) -> Problem:
    """A 422 for an engine error, with the position of an expression error."""
    error: dict[str, Any] = {"message": str(exc)}
    if field:
        error["field"] = field
    for attr in ("offset", "line", "column"):
        value = getattr(exc, attr, None)
        if value is not None:
            error[attr] = value
    return Problem(422, exc.code.replace("_", "-"), str(exc), errors=[error])


def evaluation_unavailable(cause: str) -> Problem:
    """503 ``evaluation-unavailable``: the machine could not run a pair's check (it failed to
    start or was killed for the machine's sake: the platform's fault, not the pair's); nothing
    was stored, and the client should try again, with the same ``Idempotency-Key``."""
    return Problem(
        503,
        "evaluation-unavailable",
        f"the server could not check the pair right now ({cause}); nothing was stored and no "
        "quota was used, try again later",
        headers={"Retry-After": str(EVALUATION_RETRY_SECONDS)},
    )


_PARTS = ("body", "query", "path", "header", "cookie")


def validation_detail(errors: list[dict[str, Any]]) -> str:
    """A 422's one-line detail: the first problem, and where (``rules.alpha: Input should be
    greater than or equal to 0``), then how many more there are."""
    if not errors:
        return "the request is not valid"
    first = errors[0]
    where = ".".join(str(part) for part in first["location"] if part not in _PARTS)
    detail = f"{where}: {first['message']}" if where else str(first["message"])
    more = len(errors) - 1
    return detail + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error, including unexpected ones, with problem details."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            request, exc.status, exc.slug, exc.detail, exc.headers or None, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": list(err.get("loc", ())), "message": err.get("msg", "")}
            for err in exc.errors()
        ]
        return problem_response(
            request, 422, "validation-error", validation_detail(errors), errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        return problem_response(
            request, exc.status_code, _slug_for(exc.status_code), detail, exc.headers
        )

    @app.exception_handler(StorageError)
    async def _storage(request: Request, exc: StorageError) -> JSONResponse:
        log.error("storage failure on %s: %s", request.url.path, exc)
        if exc.full:
            return problem_response(
                request,
                507,
                "storage-full",
                "the server has no space left for files; nothing was stored, try again later",
                {"Retry-After": str(STORAGE_RETRY_SECONDS)},
            )
        return problem_response(
            request,
            503,
            "storage-unavailable",
            "the server cannot store files right now; nothing was stored, try again later",
            {"Retry-After": str(STORAGE_RETRY_SECONDS)},
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(SQLAlchemyTimeoutError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        # Restarting, unreachable, out of connections, or SQLite busy past its timeout: all
        # pass, so the client is told to retry (the SDK does), with the same Idempotency-Key.
        log.warning("database unavailable on %s: %s", request.url.path, type(exc).__name__)
        return problem_response(
            request,
            503,
            "database-unavailable",
            "the database is unavailable for a moment; nothing was changed, try again",
            {"Retry-After": str(DATABASE_RETRY_SECONDS)},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        log.exception("unhandled error (request %s) on %s", request_id, request.url.path)
        return problem_response(
            request,
            500,
            "internal-error",
            f"an unexpected error occurred; quote request id {request_id} when reporting it",
        )
