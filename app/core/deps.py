"""Request dependencies shared by every domain: settings, database session, artifact store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session, sessionmaker

from app.core.db import begin_write
from app.core.notify import Notifier
from app.core.settings import Settings
from app.core.storage import ArtifactStore


# Dependencies that do no I/O are ``async`` so that FastAPI calls them on the event loop
# instead of a trip through the thread pool for each (which costs latency under load).
async def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> ArtifactStore:
    """The app's artifact store."""
    store: ArtifactStore = request.app.state.store
    return store


async def get_notifier(request: Request) -> Notifier:
    """The app's notifier (wakes a worker running in the same process)."""
    notifier: Notifier = request.app.state.notifier
    return notifier


_WRITES_LATE = "_bounty_writes_late"

E = TypeVar("E", bound=Callable[..., Any])


def writes_late(endpoint: E) -> E:
    """Mark an endpoint that reads, does slow work, and only then calls ``begin_write`` itself
    (after ending its read transaction), so that SQLite's write lock is not held meanwhile."""
    setattr(endpoint, _WRITES_LATE, True)
    return endpoint


def get_session(request: Request) -> Iterator[Session]:
    """A session for the request, committed if the endpoint returns, rolled back if it raises."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    if getattr(request.scope.get("endpoint"), _WRITES_LATE, False):
        with factory() as session:  # the endpoint ends and begins transactions itself
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
        return
    with factory() as session, session.begin():
        if request.method not in {"GET", "HEAD", "OPTIONS"}:
            begin_write(session)
        yield session


T = TypeVar("T")

READ_THREADS = 8
"""Threads the hot reads may use at once, counted apart from the 40 that sync endpoints share:
a burst of uploads, each waiting for its pair's check, then cannot hold every thread a
participant's poll needs."""


async def run_read(request: Request, work: Callable[[], T]) -> T:
    """``work()`` in a worker thread counted against the reads' own ``READ_THREADS``."""
    state = request.app.state
    limiter: CapacityLimiter | None = getattr(state, "read_limiter", None)
    if limiter is None:  # made on the event loop, where no other task runs meanwhile
        limiter = state.read_limiter = CapacityLimiter(READ_THREADS)
    return await anyio.to_thread.run_sync(work, limiter=limiter)


async def read_in_thread(request: Request, work: Callable[[Session], T]) -> T:
    """``work(session)`` in a read transaction, all in one trip to the reads' threads.

    For the hottest read endpoints: a sync endpoint with sync dependencies makes a trip per
    dependency, and under load those trips, each waiting for the GIL, dominate the latency.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory

    def run() -> T:
        with factory() as session, session.begin():
            return work(session)

    return await run_read(request, run)


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[ArtifactStore, Depends(get_store)]
# scope="function": the session commits when the endpoint returns, before the response is sent,
# so a client never reads older data after an answer, nor gets a 2xx for a failed commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
NotifierDep = Annotated[Notifier, Depends(get_notifier)]

RoundSlug = Annotated[
    str, Path(description="The round's slug (from its URL).", examples=["adult-income-demo"])
]
# Row ids fit a signed 64-bit integer (SQLite refuses a larger parameter with an error).
MAX_ID = 2**63 - 1
SubmissionId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="The submission's id.", examples=[42])
]
TeamId = Annotated[int, Path(ge=1, le=MAX_ID, description="The team's id.", examples=[7])]
ApiKeyId = Annotated[int, Path(ge=1, le=MAX_ID, description="The API key's id.", examples=[3])]
