"""Shared fixtures: real databases (SQLite and PostgreSQL) with migrations applied, rolled-back
transactions per test, and the real ASGI app on top of them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker
from threadpoolctl import threadpool_limits

from app.core.db import make_engine
from app.core.migrate import upgrade
from app.core.settings import Settings
from app.core.storage import LocalStore
from app.evaluation.sandbox import THREAD_VARIABLES
from tests.support.apps import lent_app
from tests.support.postgres import PostgresCluster

# The suite is never red at random: property tests draw the same examples on every run (a bug
# hypothesis finds is fixed and its example pinned as a test of its own). To hunt for new
# examples: pytest --hypothesis-profile=explore tests/engine
hypothesis_settings.register_profile("deterministic", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("explore", max_examples=2000, print_blob=True)
hypothesis_settings.load_profile("deterministic")


def pytest_configure(config: pytest.Config) -> None:
    """Give each xdist worker its share of the cores for numerical libraries' thread pools (as
    scikit-learn's own test suite does): this process through threadpoolctl, the servers and
    commands it starts through the variables they read when they load those libraries.
    Without it, every process ran a pool per core, and on a 2-core machine the pools'
    busy-waiting took about half of the suite's CPU time."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers is None:
        return
    threads = str(max((os.cpu_count() or 1) // int(workers), 1))
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, threads))
    threadpool_limits(limits=int(threads))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The ``long`` tests first (in their order): started last, one of them kept a worker busy
    while the others had nothing left to do."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Most tests set accounts up rather than test them: hash cheaply (still argon2id)."""
    monkeypatch.setattr(
        "app.core.security._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A PostgreSQL cluster for the whole test session (one per xdist worker)."""
    cluster = PostgresCluster().start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'bounty.db'}"


BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests on the database run on SQLite; those marked ``both_backends`` (where the backend
    matters: locking, concurrent workers, constraints and triggers, the leaderboard's SQL,
    restarts) run on PostgreSQL too."""
    if "migrated_engine" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_backends") is not None
        backends = list(BACKENDS) if both else ["sqlite"]
        metafunc.parametrize("migrated_engine", backends, indirect=True, scope="session")


@pytest.fixture(scope="session")
def migrated_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine on a freshly migrated database of the backend the test runs on."""
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of its own (not migrated, commits are real), for each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    server = request.getfixturevalue("postgresql_url")
    name = f"blank_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def session_factory(migrated_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions inside one transaction that is rolled back after the test."""
    connection = migrated_engine.connect()
    outer = connection.begin()
    yield sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    outer.rollback()
    connection.close()


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for direct use in a test (rolled back with everything else)."""
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url="sqlite://",  # unused: the app gets the test session factory
        storage_dir=tmp_path / "artifacts",
        max_upload_bytes=20 * 1024 * 1024,
        frontend_dir=tmp_path / "no-web-app",  # API tests do not depend on a frontend build
    )


@pytest.fixture
def client(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The real ASGI app on the test database and a temporary artifact store."""
    store = LocalStore(settings.storage_dir)
    with (
        lent_app(settings, session_factory=session_factory, store=store) as app,
        TestClient(app) as test_client,
    ):
        yield test_client
