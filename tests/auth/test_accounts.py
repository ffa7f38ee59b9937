"""Accounts: sign-up, sign-in, tokens, API keys, and their failure modes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth.models import AccessToken, ApiKey, Role, User
from app.core.db import utcnow

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py

PASSWORD = "correct horse battery"


def sign_up(client: TestClient, email: str = "ada@example.org") -> dict:
    response = client.post(
        "/api/v1/auth/signup",
        json={"email": email, "display_name": "Ada", "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    return response.json()


def token_for(client: TestClient, email: str = "ada@example.org") -> str:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sign_up_sign_in_and_me(client: TestClient, db: Session) -> None:
    user = sign_up(client, "Ada@Example.org")
    assert user["email"] == "ada@example.org"
    assert user["role"] == Role.PARTICIPANT
    stored = db.scalar(select(User).where(User.email == "ada@example.org"))
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    token = token_for(client)
    me = client.get("/api/v1/me", headers=auth(token))
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]


def test_duplicate_email_is_a_conflict(client: TestClient) -> None:
    sign_up(client)
    again = client.post(
        "/api/v1/auth/signup",
        json={"email": "ADA@example.org", "display_name": "Ada 2", "password": PASSWORD},
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["type"] == "/problems/email-taken"


def test_weak_or_malformed_sign_up_is_422(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/signup", json={"email": "not-an-email", "display_name": "", "password": "x"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "/problems/validation-error"
    fields = {tuple(e["location"])[-1] for e in body["errors"]}
    assert fields == {"email", "display_name", "password"}
    # The one-line detail names the first problem, where it is, and how many follow.
    first = body["errors"][0]
    assert body["detail"].startswith(f"{first['location'][-1]}: {first['message']}")
    assert body["detail"].endswith("(and 2 more problems)")


def test_wrong_password_then_lockout(client: TestClient) -> None:
    sign_up(client)
    for _ in range(5):
        bad = client.post(
            "/api/v1/auth/token", data={"username": "ada@example.org", "password": "wrong-one!"}
        )
        assert bad.status_code == 401
    locked = client.post(
        "/api/v1/auth/token", data={"username": "ada@example.org", "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0


def test_anonymous_and_bad_tokens_are_401(client: TestClient) -> None:
    assert client.get("/api/v1/me").status_code == 401
    bad = client.get("/api/v1/me", headers=auth("bbt_not-a-real-token"))
    assert bad.status_code == 401
    assert bad.json()["type"] == "/problems/invalid-token"


def test_logout_revokes_the_token(client: TestClient) -> None:
    sign_up(client)
    token = token_for(client)
    assert client.post("/api/v1/auth/logout", headers=auth(token)).status_code == 204
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 401


def test_api_keys_shown_once_stored_hashed_revocable(client: TestClient, db: Session) -> None:
    sign_up(client)
    token = token_for(client)
    created = client.post("/api/v1/me/api-keys", json={"name": "ci"}, headers=auth(token))
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("bbk_")
    stored = db.scalar(select(ApiKey))
    assert stored is not None
    assert key not in (stored.digest, stored.prefix)
    assert stored.last_used_at is None
    assert client.get("/api/v1/me", headers=auth(key)).status_code == 200
    listed = client.get("/api/v1/me/api-keys", headers=auth(token)).json()
    assert [k["name"] for k in listed] == ["ci"]
    assert "key" not in listed[0]
    assert listed[0]["last_used_at"] is not None
    revoked = client.delete(f"/api/v1/me/api-keys/{listed[0]['id']}", headers=auth(token))
    assert revoked.status_code == 204
    assert client.get("/api/v1/me", headers=auth(key)).status_code == 401


def test_expired_keys_and_tokens_are_401(client: TestClient, db: Session) -> None:
    sign_up(client)
    token = token_for(client)
    body = {"name": "short", "expires_in_days": 1}
    key = client.post("/api/v1/me/api-keys", json=body, headers=auth(token)).json()["key"]
    assert client.get("/api/v1/me", headers=auth(key)).status_code == 200
    past = utcnow() - timedelta(seconds=1)
    db.execute(update(ApiKey).values(expires_at=past))
    db.execute(update(AccessToken).values(expires_at=past))
    db.flush()
    for credential in (key, token):
        answer = client.get("/api/v1/me", headers=auth(credential))
        assert answer.status_code == 401
        assert answer.json()["type"] == "/problems/invalid-token"
        assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_cannot_revoke_someone_elses_key(client: TestClient) -> None:
    sign_up(client)
    sign_up(client, "bob@example.org")
    ada, bob = token_for(client), token_for(client, "bob@example.org")
    key_id = client.post("/api/v1/me/api-keys", json={"name": "x"}, headers=auth(ada)).json()["id"]
    assert client.delete(f"/api/v1/me/api-keys/{key_id}", headers=auth(bob)).status_code == 404


def test_unknown_route_and_method_are_problem_details(client: TestClient) -> None:
    missing = client.get("/api/v1/nowhere")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = client.delete("/api/v1/health")
    assert wrong.status_code == 405
    assert wrong.json()["status"] == 405
    assert "x-request-id" in wrong.headers


def test_oversized_body_is_413(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/signup",
        content=b"x" * (20 * 1024 * 1024 + 1),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/content-too-large"
