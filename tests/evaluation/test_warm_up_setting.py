"""The API starts the sandbox's fork server as it starts (``BOUNTY_SANDBOX_WARM_UP``, on by
default), so that the first upload does not wait for it; off, nothing starts it until an upload
or an evaluation needs it. The warm-up itself is replaced by a stand-in that records the call:
starting a real fork server here would prove nothing more (``tests/test_demo_server.py`` checks
that a real demo has one before its first upload)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app

WARM_UP_THREAD = "sandbox-warm-up"


@pytest.fixture
def warm_up_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Set when the API calls the warm-up; the call then blocks, so its thread stays alive
    until the test ends."""
    called, release = threading.Event(), threading.Event()

    def warm_up() -> int:
        called.set()
        release.wait(30)
        return 0

    monkeypatch.setattr("app.main.warm_up_sandbox", warm_up)
    yield called
    release.set()


def _start_and_stop(tmp_path: Path, *, warm_up: bool) -> list[str]:
    """Run the API's start-up as a development server does; the threads alive once it
    serves."""
    settings = Settings(
        environment="development",
        database_url=f"sqlite:///{tmp_path / 'bounty.db'}",
        storage_dir=tmp_path / "artifacts",
        frontend_dir=tmp_path / "no-web-app",
        sandbox_warm_up=warm_up,
    )
    try:
        with TestClient(create_app(settings)):
            return [thread.name for thread in threading.enumerate()]
    finally:
        gc.unfreeze()  # a development server freezes what it built; this process goes on


def test_the_api_warms_the_sandbox_up_as_it_starts(
    tmp_path: Path, warm_up_calls: threading.Event
) -> None:
    threads = _start_and_stop(tmp_path, warm_up=True)
    assert warm_up_calls.wait(30)
    assert WARM_UP_THREAD in threads


def test_with_warm_up_off_nothing_starts_the_sandbox(
    tmp_path: Path, warm_up_calls: threading.Event
) -> None:
    threads = _start_and_stop(tmp_path, warm_up=False)
    assert WARM_UP_THREAD not in threads
    assert not warm_up_calls.is_set()
