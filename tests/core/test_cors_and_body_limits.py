"""CORS answers only the configured origins; body limits are per route where one needs more."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.core.settings import Settings
from app.core.storage import LocalStore
from app.main import create_app


def _client(settings: Settings, factory: sessionmaker[Session], **changes: object) -> TestClient:
    changed = settings.model_copy(update=changes)
    return TestClient(
        create_app(changed, session_factory=factory, store=LocalStore(changed.storage_dir))
    )


def _preflight(client: TestClient, origin: str) -> dict[str, str]:
    response = client.options(
        "/api/v1/rounds",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    return dict(response.headers)


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:9"])
def test_no_origin_is_allowed_by_default(
    settings: Settings, session_factory: sessionmaker[Session], origin: str
) -> None:
    with _client(settings, session_factory) as client:
        assert "access-control-allow-origin" not in _preflight(client, origin)
        got = client.get("/api/v1/rounds", headers={"Origin": origin})
        assert "access-control-allow-origin" not in got.headers


def test_only_configured_origins_are_allowed(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    allowed = "https://bounty.example.org"
    with _client(settings, session_factory, cors_origins=[allowed]) as client:
        assert _preflight(client, allowed)["access-control-allow-origin"] == allowed
        assert "access-control-allow-origin" not in _preflight(client, "https://evil.example")
        assert "access-control-allow-origin" not in _preflight(client, allowed + ".evil.example")


def test_the_archive_import_may_be_larger_than_other_uploads(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with _client(
        settings, session_factory, max_upload_bytes=1000, max_archive_bytes=5000
    ) as client:
        body = {"files": {"file": ("x.zip", b"x" * 2000)}}
        assert client.post("/api/v1/rounds/some-round/dataset", **body).status_code == 413
        assert client.post("/api/v1/rounds/import", **body).status_code == 401  # got through
        too_big = client.post("/api/v1/rounds/import", files={"file": ("x.zip", b"x" * 6000)})
        assert too_big.status_code == 413
        assert "limit of 5000 bytes" in too_big.json()["detail"]
