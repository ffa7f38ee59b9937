"""Errors as RFC 9457 problem details (``application/problem+json``), for every response."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

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
        description="A stable identifier of the kind of problem; branch on this. The "
        "document's x-problem-types lists every type with its status and title.",
        examples=["/problems/unknown-feature"],
    )
    title: str = Field(
        description="A short summary of the problem type (the same for every problem of a type).",
        examples=["Invalid group expression"],
    )
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
    """An error answered as RFC 9457 problem details.

    Each kind of problem is a subclass that states, once, its HTTP ``status``, its ``slug`` (the
    stable type URI ``/problems/<slug>``) and its ``title``; it is raised with a ``detail`` for
    people and any ``extra`` members of the document (``errors`` with positions, ``quota``).
    Every subclass is listed in ``Problem.types`` and in the OpenAPI document.
    """

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"
    types: ClassVar[dict[str, type[Problem]]] = {}
    """Every problem type, by slug."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "slug" in cls.__dict__:
            known = Problem.types.setdefault(cls.slug, cls)
            if known is not cls:
                raise TypeError(f"{known.__name__} and {cls.__name__} are both {cls.slug!r}")

    def __init__(
        self, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    @classmethod
    def type_uri(cls) -> str:
        """The problem type's stable identifier."""
        return PROBLEM_TYPE_BASE + cls.slug


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    """The problem details response of ``problem`` for ``request``."""
    body = {
        "type": problem.type_uri(),
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path,
        **problem.extra,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(
        body,
        status_code=problem.status,
        headers=problem.headers or None,
        media_type="application/problem+json",
    )


# --------------------------------------------------------------------------- generic problems


class BadRequest(Problem):
    status, slug, title = 400, "bad-request", "Bad request"


class NotAuthenticated(Problem):
    status, slug, title = 401, "not-authenticated", "Not authenticated"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(Problem):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class ContentTooLarge(Problem):
    status, slug, title = 413, "content-too-large", "Request body too large"


class FileTooLarge(Problem):
    status, slug, title = 413, "file-too-large", "File too large"


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class EmptyFile(Problem):
    status, slug, title = 422, "empty-file", "Empty file"


class ValidationFailed(Problem):
    status, slug, title = 422, "validation-error", "Invalid request"


class RateLimited(Problem):
    status, slug, title = 429, "rate-limited", "Too many requests"


class InternalError(Problem):
    status, slug, title = 500, "internal-error", "Internal server error"


class ArtifactMissing(Problem):
    status, slug, title = 500, "artifact-missing", "Stored file missing"


class EvaluationUnavailable(Problem):
    status, slug, title = 503, "evaluation-unavailable", "Could not check the pair now"


class StorageUnavailable(Problem):
    status, slug, title = 503, "storage-unavailable", "File storage unavailable"


class DatabaseUnavailable(Problem):
    status, slug, title = 503, "database-unavailable", "Database unavailable"


class StorageFull(Problem):
    status, slug, title = 507, "storage-full", "File storage full"


class HttpError(Problem):
    """Any other HTTP error the framework raises (its status is the instance's own)."""

    status, slug, title = 400, "http-error", "HTTP error"

    def __init__(self, status: int, detail: str, headers: Mapping[str, str] | None) -> None:
        super().__init__(detail, headers=headers)
        self.status = status  # type: ignore[misc]


# The engine's errors (``bounty_engine.errors``), by code: a 422 naming the field and position.


class EngineFailure(Problem):
    status, slug, title = 422, "engine-error", "Could not process the input"


class InvalidData(Problem):
    status, slug, title = 422, "invalid-data", "Invalid data"


class InvalidExpression(Problem):
    status, slug, title = 422, "invalid-expression", "Invalid group expression"


class InvalidModel(Problem):
    status, slug, title = 422, "invalid-model", "Invalid model"


class InvalidPredictions(Problem):
    status, slug, title = 422, "invalid-predictions", "Invalid predictions"


_BY_STATUS: dict[int, type[Problem]] = {
    cls.status: cls for cls in (BadRequest, NotAuthenticated, Forbidden, NotFound, MethodNotAllowed)
}
_BY_STATUS.update({413: ContentTooLarge, 415: UnsupportedMediaType, 429: RateLimited})


def engine_problem(exc: EngineError, *, field: str | None = None) -> Problem:
    """A 422 for an engine error, with the position of an expression error."""
    error: dict[str, Any] = {"message": str(exc)}
    if field:
        error["field"] = field
    for attr in ("offset", "line", "column"):
        value = getattr(exc, attr, None)
        if value is not None:
            error[attr] = value
    return engine_problem_type(exc.code)(str(exc), errors=[error])


def engine_problem_type(code: str, default: type[Problem] = EngineFailure) -> type[Problem]:
    """The 422 problem type of an engine error code (``invalid_model``: ``InvalidModel``)."""
    kind = Problem.types.get(code.replace("_", "-"), default)
    return kind if kind.status == 422 else default


def evaluation_unavailable(cause: str) -> EvaluationUnavailable:
    """503 ``evaluation-unavailable``: the machine could not run a pair's check (it failed to
    start or was killed for the machine's sake: the platform's fault, not the pair's); nothing
    was stored, and the client should try again, with the same ``Idempotency-Key``."""
    return EvaluationUnavailable(
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
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": list(err.get("loc", ())), "message": err.get("msg", "")}
            for err in exc.errors()
        ]
        return problem_response(request, ValidationFailed(validation_detail(errors), errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        kind = _BY_STATUS.get(exc.status_code)
        problem = (
            kind(detail, headers=exc.headers)
            if kind is not None
            else HttpError(exc.status_code, detail, exc.headers)
        )
        return problem_response(request, problem)

    @app.exception_handler(StorageError)
    async def _storage(request: Request, exc: StorageError) -> JSONResponse:
        log.error("storage failure on %s: %s", request.url.path, exc)
        retry = {"Retry-After": str(STORAGE_RETRY_SECONDS)}
        if exc.full:
            return problem_response(
                request,
                StorageFull(
                    "the server has no space left for files; nothing was stored, try again later",
                    headers=retry,
                ),
            )
        return problem_response(
            request,
            StorageUnavailable(
                "the server cannot store files right now; nothing was stored, try again later",
                headers=retry,
            ),
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
            DatabaseUnavailable(
                "the database is unavailable for a moment; nothing was changed, try again",
                headers={"Retry-After": str(DATABASE_RETRY_SECONDS)},
            ),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        log.exception("unhandled error (request %s) on %s", request_id, request.url.path)
        return problem_response(
            request,
            InternalError(
                f"an unexpected error occurred; quote request id {request_id} when reporting it"
            ),
        )
