"""Rate limits on sign-up, sign-in and API key creation, per client address."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.core.ratelimit import RateLimiter, parse_rate
from app.core.settings import Settings
from tests.support.api import PASSWORD, account

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"rate_signup": "2/3600", "rate_sign_in": "3/60", "rate_api_key": "2/3600"}
    )


def _signup(client: TestClient, n: int) -> int:
    body = {"email": f"u{n}@example.org", "display_name": "U", "password": "long enough pass"}
    return client.post("/api/v1/auth/signup", json=body).status_code


def test_sign_ups_beyond_the_limit_get_429_with_retry_after(client: TestClient) -> None:
    assert [_signup(client, n) for n in range(2)] == [201, 201]
    refused = client.post(
        "/api/v1/auth/signup",
        json={"email": "u9@example.org", "display_name": "U", "password": "long enough pass"},
    )
    assert refused.status_code == 429
    assert refused.json()["type"] == "/problems/rate-limited"
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600


def test_sign_ins_are_limited_per_address_even_with_the_right_password(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    ann = account(client, session_factory, "ann@example.org")  # one sign-in
    form = {"username": ann.email, "password": PASSWORD}
    assert [client.post("/api/v1/auth/token", data=form).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]


def test_api_keys_are_limited(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    ann = account(client, session_factory, "ann@example.org")
    made = [
        client.post("/api/v1/me/api-keys", json={"name": "k"}, headers=ann.headers).status_code
        for _ in range(3)
    ]
    assert made == [201, 201, 429]
    keys = client.get("/api/v1/me/api-keys", headers=ann.headers).json()
    assert len(keys) == 2  # the refused request made nothing


def test_the_window_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    key = ("sign-in", "203.0.113.7")
    assert [limiter.hit(key, 2, 60) for _ in range(2)] == [None, None]
    assert limiter.hit(key, 2, 60) == 60
    assert limiter.hit(("sign-in", "198.51.100.1"), 2, 60) is None  # another address
    now[0] = 30.0
    assert limiter.hit(key, 2, 60) == 30
    now[0] = 60.0  # the first two hits have left the window
    assert limiter.hit(key, 2, 60) is None
    assert parse_rate("10/3600") == (10, 3600.0)
