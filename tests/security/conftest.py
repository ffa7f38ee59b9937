"""The security tests use the submission tests' worker, and a round with a team of their own."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.submissions.conftest import (
    Arena,
    build_arena,
    worker,  # noqa: F401
)


@pytest.fixture
def game(client: TestClient, session_factory: sessionmaker[Session]) -> Arena:
    """A round whose quota leaves room for every hostile submission."""
    return build_arena(client, session_factory, daily_quota=100)
