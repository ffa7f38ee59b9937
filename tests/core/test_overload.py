"""More concurrent requests than database connections: they queue and all succeed (before the
admission limit, threads and connections deadlocked until the pool timed out with 500s); and a
database that cannot be reached is a 503 to retry, not a 500."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app
from app.seed import DEMO_RESEARCHER
from tests.support.servers import demo_server

CLIENTS = 60


async def _many(url: str, token: str) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        headers = {"Authorization": f"Bearer {token}"}

        async def one(i: int) -> int:
            path = "/api/v1/me" if i % 2 else "/api/v1/rounds"
            return (await http.get(path, headers=headers)).status_code

        return list(await asyncio.gather(*(one(i) for i in range(CLIENTS))))


def test_requests_beyond_the_pool_queue_instead_of_deadlocking(tmp_path: Path) -> None:
    with demo_server(tmp_path, database_pool_size="2", database_max_overflow="1") as server:
        answer = httpx.post(
            f"{server.url}/api/v1/auth/token",
            data={"username": DEMO_RESEARCHER[0], "password": DEMO_RESEARCHER[1]},
            timeout=60,
        )
        statuses = asyncio.run(_many(server.url, answer.json()["access_token"]))
    assert statuses == [200] * CLIENTS


def test_an_unreachable_database_is_503_with_retry_after(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "bounty.db"
    settings = Settings(environment="test", database_url=f"sqlite:///{missing}")
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/v1/rounds")
    assert response.status_code == 503
    assert response.json()["type"] == "/problems/database-unavailable"
    assert response.headers["retry-after"] == "2"
