"""The tests' shared apps (``tests/support/apps.py``): an app lent again serves from new state
only, two apps lent at once are two apps, and settings that shape the app get an app of
their own."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.core.settings import Settings
from app.core.storage import LocalStore
from tests.support.apps import lent_app, shape


def _settings(folder: Path, **changes: object) -> Settings:
    return Settings(
        environment="test",
        database_url="sqlite://",
        storage_dir=folder / "artifacts",
        frontend_dir=folder / "no-web-app",
        **changes,
    )


def test_an_app_lent_again_keeps_nothing_of_its_last_test(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    first, second = _settings(tmp_path / "a"), _settings(tmp_path / "b")
    assert shape(first) == shape(second)
    with lent_app(first, session_factory=session_factory, store=LocalStore(tmp_path)) as app:
        with TestClient(app) as client:
            assert client.get("/api/v1/rounds").status_code == 200
        app.state.round_cache = "left by a route"
        lent = app
    store = LocalStore(tmp_path / "b")
    with lent_app(second, session_factory=session_factory, store=store) as again:
        assert again is lent  # the same routes and middleware...
        assert again.state.settings is second  # ...serving from the new state alone
        assert again.state.store is store
        assert not hasattr(again.state, "round_cache")
        with TestClient(again) as client:
            assert client.get("/api/v1/rounds").status_code == 200


def test_two_apps_lent_at_once_are_two_apps(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    settings = _settings(tmp_path)
    store = LocalStore(tmp_path)
    with (
        lent_app(settings, session_factory=session_factory, store=store) as one,
        lent_app(settings, session_factory=session_factory, store=store) as other,
    ):
        assert one is not other
        assert one.state is not other.state


def test_settings_the_middleware_is_built_from_get_an_app_of_their_own(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    small = _settings(tmp_path, max_upload_bytes=1000)
    assert shape(small) != shape(_settings(tmp_path))
    store = LocalStore(tmp_path)
    with (
        lent_app(small, session_factory=session_factory, store=store) as app,
        TestClient(app) as client,
    ):
        response = client.post("/api/v1/auth/signup", content=b"x" * 2000)
    assert response.status_code == 413
