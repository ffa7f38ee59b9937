"""More concurrent requests than database connections: they queue and all succeed (before the
admission limit, threads and connections deadlocked until the pool timed out with 500s); and a
database that cannot be reached is a 503 to retry, not a 500."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from app.core.middleware import ConcurrencyLimitMiddleware
from app.core.settings import Settings
from app.main import create_app
from app.seed import DEMO_RESEARCHER
from tests.support.servers import NEVER_EVALUATES, demo_server

CLIENTS = 60


async def _many(url: str, token: str) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        headers = {"Authorization": f"Bearer {token}"}

        async def one(i: int) -> int:
            path = "/api/v1/me" if i % 2 else "/api/v1/rounds"
            return (await http.get(path, headers=headers)).status_code

        return list(await asyncio.gather(*(one(i) for i in range(CLIENTS))))


def test_requests_beyond_the_pool_queue_instead_of_deadlocking(tmp_path: Path) -> None:
    with demo_server(
        tmp_path,
        database_pool_size="2",
        database_max_overflow="1",
        sandbox_warm_up=NEVER_EVALUATES,
    ) as server:
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


def test_uploads_waiting_for_their_checks_leave_the_other_requests_their_slots() -> None:
    release = asyncio.Event()
    served: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "POST":
            await release.wait()  # an upload waiting for its pair's check
        served.append(scope["method"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limited = ConcurrencyLimitMiddleware(app, limit=9)  # 3 upload slots, 6 for the rest

    async def request(method: str, content_type: bytes = b"application/json") -> None:
        scope = {
            "type": "http",
            "method": method,
            "path": "/api/v1/x",
            "headers": [(b"content-type", content_type)],
        }

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            pass

        await limited(scope, receive, send)

    async def scenario() -> tuple[list[str], list[str]]:
        uploads = [
            asyncio.create_task(request("POST", b"multipart/form-data; boundary=x"))
            for _ in range(20)
        ]
        await asyncio.sleep(0)  # every upload has taken a slot or is queued for one
        await asyncio.wait_for(asyncio.gather(*(request("GET") for _ in range(12))), 60)
        during = list(served)
        release.set()
        await asyncio.gather(*uploads)
        return during, served

    during, after = asyncio.run(scenario())
    assert during == ["GET"] * 12  # served while every upload slot was taken
    assert after.count("POST") == 20
