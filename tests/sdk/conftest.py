"""A real server for the SDK and CLI tests: bounty demo (uvicorn on loopback and a worker)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from app.cli import cli
from app.seed import DEMO_ORGANIZER, DEMO_RESEARCHER
from tests.support.servers import DemoServer, demo_server


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The server that this test process's modules share, unless they need their own."""
    with demo_server(tmp_path_factory.mktemp("sdk-shared")) as running:
        yield running


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoServer]:
    """The module's server: the shared one, or one of its own for a module that sets
    ``OWN_SERVER = True`` because it needs the demo round as seeded (it submits the pair that
    the seeded model accepts once; a server that accepted it, or another pair, may not)."""
    if not getattr(request.module, "OWN_SERVER", False):
        yield request.getfixturevalue("shared_server")
        return
    with demo_server(tmp_path_factory.mktemp("sdk")) as running:
        yield running


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[DemoServer]:
    """A server of its own: the examples submit the same pairs."""
    folder = tmp_path / "server"
    folder.mkdir()
    with demo_server(folder) as running:
        yield running


@pytest.fixture(scope="module")
def api_key(server: DemoServer) -> str:
    """An API key of the demo researcher (who has a team in the demo round)."""
    return new_api_key(server, *DEMO_RESEARCHER)


@pytest.fixture
def api_key_of() -> Callable[[DemoServer], str]:
    """An API key of the demo researcher on a given server."""
    return lambda server: new_api_key(server, *DEMO_RESEARCHER)


def new_api_key(server: DemoServer, email: str, password: str) -> str:
    """An API key of the account ``email`` (signed in with ``password``)."""
    login = {"username": email, "password": password}
    token = httpx.post(f"{server.url}/api/v1/auth/token", data=login).json()["access_token"]
    created = httpx.post(
        f"{server.url}/api/v1/me/api-keys",
        json={"name": "tests"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def new_researcher(server: DemoServer, slug: str, team: str) -> str:
    """A new participant account with a team of its own in round ``slug``: its API key."""
    email, password = f"{team.lower().replace(' ', '-')}@example.org", "a long enough password"
    signup = {"email": email, "display_name": team, "password": password}
    assert httpx.post(f"{server.url}/api/v1/auth/signup", json=signup).status_code == 201
    key = new_api_key(server, email, password)
    made = httpx.post(
        f"{server.url}/api/v1/rounds/{slug}/teams",
        json={"name": team},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert made.status_code == 201, made.text
    return key


@pytest.fixture(scope="module")
def organizer_key(server: DemoServer) -> str:
    """An API key of the demo organizer."""
    return new_api_key(server, *DEMO_ORGANIZER)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``bounty`` in process, with its own config folder and no key from the environment."""
    monkeypatch.setenv("BOUNTY_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("BOUNTY_API_KEY", raising=False)
    monkeypatch.delenv("BOUNTY_SERVER", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, [str(a) for a in args])
