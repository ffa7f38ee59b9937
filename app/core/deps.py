"""Request dependencies shared by every domain: settings, database session, artifact store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from app.core.db import begin_write
from app.core.settings import Settings
from app.core.storage import ArtifactStore


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> ArtifactStore:
    """The app's artifact store."""
    store: ArtifactStore = request.app.state.store
    return store


def get_session(request: Request) -> Iterator[Session]:
    """A session for the request, committed if the endpoint returns, rolled back if it raises."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session, session.begin():
        if request.method not in {"GET", "HEAD", "OPTIONS"}:
            begin_write(session)
        yield session


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[ArtifactStore, Depends(get_store)]
SessionDep = Annotated[Session, Depends(get_session)]
