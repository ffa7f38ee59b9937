"""Helpers for API tests: accounts with tokens, and authorization headers."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.auth.service import create_user

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Account:
    """A signed-in user of the test app."""

    id: int
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header of this account."""
        return {"Authorization": f"Bearer {self.token}"}


def account(
    client: TestClient,
    factory: sessionmaker[Session],
    email: str,
    role: Role = Role.PARTICIPANT,
) -> Account:
    """Create a user with ``role`` and sign it in through the API."""
    with factory() as session, session.begin():
        user_id = create_user(session, email, email.partition("@")[0], PASSWORD, role).id
    response = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return Account(user_id, email, response.json()["access_token"])
