"""Fixtures of the worker tests.

These tests need committed data visible to several connections, threads and processes, so they
use a fresh database of their own (a SQLite file, or a new database in the test PostgreSQL
cluster) instead of the rolled-back transaction of the other tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.core.db import make_engine, make_session_factory
from app.core.migrate import upgrade
from app.core.notify import Notifier
from app.core.settings import Settings
from app.core.storage import LocalStore
from tests.submissions.conftest import Arena, build_arena
from tests.support.apps import lent_app


@pytest.fixture
def notifier() -> Notifier:
    """The notifier the app shares with workers that run in the test's process."""
    return Notifier()


@pytest.fixture
def database_url(blank_database_url: str) -> str:
    """A fresh, migrated database whose commits are real."""
    upgrade(blank_database_url)
    return blank_database_url


@pytest.fixture
def live(
    database_url: str, tmp_path: Path, notifier: Notifier
) -> Iterator[tuple[Arena, sessionmaker[Session], Settings]]:
    """The app on the fresh database, with a round and a team (as ``arena``); the session
    factory and the settings, for workers on the same database and store."""
    settings = Settings(
        environment="test",
        database_url=database_url,
        storage_dir=tmp_path / "artifacts",
        worker_lease_seconds=30,
        worker_poll_seconds=3600,  # a waiting worker goes on only when notified
    )
    factory = make_session_factory(make_engine(database_url))
    store = LocalStore(settings.storage_dir)
    with (
        lent_app(settings, session_factory=factory, store=store, notifier=notifier) as app,
        TestClient(app) as client,
    ):
        yield build_arena(client, factory, daily_quota=50), factory, settings
