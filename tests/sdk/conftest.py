"""A real server for the SDK and CLI tests: bounty demo (uvicorn on loopback and a worker)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.seed import DEMO_RESEARCHER
from tests.support.servers import DemoServer, demo_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("sdk"), worker_poll_seconds="0.1") as running:
        yield running


@pytest.fixture(scope="module")
def api_key(server: DemoServer) -> str:
    """An API key of the demo researcher (who has a team in the demo round)."""
    login = {"username": DEMO_RESEARCHER[0], "password": DEMO_RESEARCHER[1]}
    token = httpx.post(f"{server.url}/api/v1/auth/token", data=login).json()["access_token"]
    created = httpx.post(
        f"{server.url}/api/v1/me/api-keys",
        json={"name": "sdk tests"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201, created.text
    key: str = created.json()["key"]
    return key
