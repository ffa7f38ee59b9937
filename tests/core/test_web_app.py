"""The API process serves the web app's build: files, and index.html for the app's routes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.core.settings import Settings
from app.core.storage import LocalStore
from app.main import create_app

INDEX = "<!doctype html><title>Bias Bounty</title><div id=root></div>"


@pytest.fixture
def web(tmp_path: Path, settings: Settings, session_factory: sessionmaker[Session]) -> TestClient:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-abc123.js").write_text("console.log('app')")
    (dist / "robots.txt").write_text("User-agent: *")
    (tmp_path / "secret.txt").write_text("outside the build")
    app = create_app(
        settings.model_copy(update={"frontend_dir": dist}),
        session_factory=session_factory,
        store=LocalStore(settings.storage_dir),
    )
    return TestClient(app)


def test_app_routes_get_index_and_assets_are_cached(web: TestClient) -> None:
    for path in ("/", "/rounds/adult-income-demo", "/submissions/42", "/keys"):
        page = web.get(path)
        assert page.status_code == 200
        assert page.text == INDEX
        assert page.headers["cache-control"] == "no-cache"
        assert "x-request-id" in page.headers
    asset = web.get("/assets/index-abc123.js")
    assert asset.text == "console.log('app')"
    assert "immutable" in asset.headers["cache-control"]
    assert web.get("/robots.txt").text == "User-agent: *"


def test_the_api_and_its_docs_are_untouched(web: TestClient) -> None:
    assert web.get("/api/v1/health").json()["status"] == "ok"
    missing = web.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert web.post("/api/v1/no-such-thing").status_code == 404
    assert web.get("/openapi.json").json()["info"]["title"] == "Bias Bounty"
    assert web.get("/docs").status_code == 200
    assert web.post("/rounds/x").status_code in (404, 405)  # only GET/HEAD serve pages


def test_no_path_leaves_the_build(web: TestClient) -> None:
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt", "/%00"):
        answer = web.get(path)
        assert answer.status_code in (200, 404)
        assert "outside the build" not in answer.text


def test_missing_files_are_404_and_only_assets_are_cached_for_long(web: TestClient) -> None:
    assert web.get("/assets/index-old.js").status_code == 404
    assert web.get("/favicon.ico").status_code == 404
    assert web.get("/docsx").text == INDEX  # an app route, not the API's docs
    assert web.get("/docs/oauth2-redirect").status_code == 200
    index_via_assets = web.get("/assets/../index.html")
    assert "immutable" not in index_via_assets.headers.get("cache-control", "")


def test_without_a_build_the_api_alone_answers(
    tmp_path: Path, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    app = create_app(
        settings.model_copy(update={"frontend_dir": tmp_path / "not-built"}),
        session_factory=session_factory,
        store=LocalStore(settings.storage_dir),
    )
    client = TestClient(app)
    assert client.get("/").status_code == 404
    assert client.get("/api/v1/health").status_code == 200


def test_pages_carry_a_content_security_policy_and_every_answer_the_security_headers(
    web: TestClient,
) -> None:
    page = web.get("/rounds/adult-income-demo")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    for answer in (page, web.get("/api/v1/health"), web.get("/api/v1/no-such-thing")):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "strict-transport-security" not in answer.headers  # plain HTTP here
    # The API docs load Swagger UI's own assets: no page policy there.
    assert "content-security-policy" not in web.get("/docs").headers
    over_https = TestClient(web.app, base_url="https://testserver").get("/api/v1/health")
    assert over_https.headers["strict-transport-security"] == "max-age=31536000"
