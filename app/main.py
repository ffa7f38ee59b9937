"""The FastAPI application: REST API under /api/v1, problem-details errors, OpenAPI."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import State

from app import __version__
from app.archive.endpoints import router as archive_router
from app.audit.endpoints import router as audit_router
from app.auth.endpoints import router as auth_router
from app.core.db import engine_from_settings, make_session_factory
from app.core.errors import install_error_handlers
from app.core.frontend import WebAppMiddleware, web_app_built
from app.core.middleware import (
    BodySizeLimitMiddleware,
    ConcurrencyLimitMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from app.core.notify import Notifier
from app.core.openapi import install_openapi
from app.core.ratelimit import RateLimiter
from app.core.settings import Settings, get_settings
from app.core.storage import ArtifactStore, make_store
from app.evaluation.deps import CacheScoring
from app.evaluation.endpoints import router as evaluation_router
from app.evaluation.sandbox import warm_up as warm_up_sandbox
from app.evaluation.sandbox import warn_if_files_unconfined
from app.leaderboard.endpoints import router as leaderboard_router
from app.populations.endpoints import router as populations_router
from app.rounds.answers import AnswerCache
from app.rounds.endpoints import router as rounds_router
from app.submissions.endpoints import router as submissions_router
from app.teams.endpoints import router as teams_router

TAGS = [
    {"name": "accounts", "description": "Sign-up, sign-in, the caller and API keys."},
    {"name": "rounds", "description": "Rounds: rules, schema, data, base model, lifecycle."},
    {"name": "teams", "description": "Teams of a round and invite codes."},
    {"name": "submissions", "description": "Submitting pairs (g, h) and following verdicts."},
    {"name": "leaderboard", "description": "Rankings, model history and insight."},
    {"name": "system", "description": "Health of the service."},
]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if settings.environment != "test":
        # Everything alive once the app is built lives as long as the process: take it out of
        # the cyclic collector's view, or each full collection walks it all and stalls every
        # request in flight (the leaderboard's p99 fell from about 130 ms to 40 ms).
        gc.collect()
        gc.freeze()
        warn_if_files_unconfined()
        if settings.sandbox_warm_up:
            # Uploads are checked in sandbox children forked from the fork server: start it
            # now, in the background, rather than on the first submission.
            threading.Thread(target=warm_up_sandbox, name="sandbox-warm-up", daemon=True).start()
    yield


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
    store: ArtifactStore | None = None,
    notifier: Notifier | None = None,
) -> FastAPI:
    """The application, for the given settings (default: from the environment)."""
    settings = settings or get_settings()
    logging.basicConfig(level=logging.INFO)
    app = FastAPI(
        title="Bias Bounty",
        version=__version__,
        description=(
            "An open platform for algorithmic bias bounties. Participants submit pairs (g, h) "
            "of a group and a patch model; a hidden holdout decides which are spliced into the "
            "model. Errors are RFC 9457 problem details."
        ),
        openapi_tags=TAGS,
        lifespan=_lifespan,
        # Operation ids are the endpoints' names (create_round, submit_pair): what generated
        # clients name their functions. install_openapi checks that they are unique.
        generate_unique_id_function=lambda route: route.name,
    )
    attach_state(app, settings, session_factory=session_factory, store=store, notifier=notifier)
    install_error_handlers(app)
    install_openapi(app)
    # Leave a few connections to what else shares the pool (the embedded worker, streams).
    connections = settings.database_pool_size + settings.database_max_overflow
    app.add_middleware(ConcurrencyLimitMiddleware, limit=connections - 2)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_upload_bytes,
        per_path={"/api/v1/rounds/import": settings.max_archive_bytes},
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    if web_app_built(settings.frontend_dir):
        app.add_middleware(WebAppMiddleware, dist=settings.frontend_dir)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestIdMiddleware)
    for router in (
        audit_router,
        auth_router,
        rounds_router,
        archive_router,
        teams_router,
        evaluation_router,
        submissions_router,
        leaderboard_router,
        populations_router,
    ):
        app.include_router(router)

    @app.get("/api/v1/health", tags=["system"])
    def health() -> dict[str, str]:
        """Liveness: the API answers."""
        return {"status": "ok", "version": __version__}

    return app


def attach_state(
    app: FastAPI,
    settings: Settings,
    *,
    session_factory: sessionmaker[Session] | None = None,
    store: ArtifactStore | None = None,
    notifier: Notifier | None = None,
) -> None:
    """Give ``app`` a new state holding everything it serves from: settings, database sessions,
    artifact store, answer cache, rate limits, notifier (and what the routes add to it later).

    The routes and middleware that ``create_app`` built from its settings stay. The tests call
    this again on a built app, with settings that differ only in what is read per request, so
    that FastAPI does not build every route's handler again for each test
    (``tests/support/apps.py``)."""
    app.state = State()
    app.state.settings = settings
    app.state.session_factory = session_factory or make_session_factory(
        engine_from_settings(settings)
    )
    app.state.store = store or make_store(settings)
    app.state.leaderboards = AnswerCache()
    app.state.rate_limiter = RateLimiter()
    app.state.notifier = notifier or Notifier()
    app.state.sandbox_scoring = CacheScoring(app.state)
    # The middleware instances are made again at the next request: their semaphores belong
    # to the event loop they were first used in.
    app.middleware_stack = None
