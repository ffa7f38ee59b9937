"""A change is committed before its answer leaves: a client reading right after a 2xx sees it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.types import Message, Receive, Scope, Send

from app.auth.models import User
from app.core.db import make_engine, make_session_factory
from app.core.settings import Settings
from app.core.storage import LocalStore
from app.main import create_app

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py


def test_the_commit_happens_before_the_response_starts(database_url: str, tmp_path: Path) -> None:
    settings = Settings(environment="test", database_url=database_url, storage_dir=tmp_path)
    factory = make_session_factory(make_engine(database_url))
    app = create_app(settings, session_factory=factory, store=LocalStore(tmp_path))
    visible_at_response: list[bool] = []

    async def probe(scope: Scope, receive: Receive, send: Send) -> None:
        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and scope["path"].endswith("/signup"):
                with factory() as other:  # another connection, as another request would use
                    found = other.scalar(select(User).where(User.email == "ada@example.org"))
                    visible_at_response.append(found is not None)
            await send(message)

        await app(scope, receive, watch)

    with TestClient(probe) as client:
        body = {"email": "ada@example.org", "display_name": "Ada", "password": "long password 1"}
        assert client.post("/api/v1/auth/signup", json=body).status_code == 201
    assert visible_at_response == [True]
