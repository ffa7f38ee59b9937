"""In the embedded default the API wakes its worker: no poll interval between submit and work."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.core.notify import Notifier, about_submission
from app.core.settings import Settings
from app.core.storage import LocalStore
from app.submissions.models import Submission
from app.worker.runner import Worker
from tests.submissions.conftest import Arena

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py

DEADLINE_SECONDS = 120.0
"""Far below the hour-long poll interval of the ``live`` settings: only a wake-up beats it."""


class Recording(Notifier):
    """A notifier that remembers what each event was about."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[frozenset[Hashable]] = []

    def notify(self, *topics: Hashable) -> None:
        self.events.append(frozenset(topics))
        super().notify(*topics)


def _status(factory: sessionmaker[Session], sub_id: int) -> str:
    with factory() as session:
        return session.scalars(select(Submission.status).where(Submission.id == sub_id)).one()


@pytest.fixture
def notifier() -> Recording:
    """The app's and the worker's notifier (overrides the shared fixture), recording."""
    return Recording()


def test_a_submission_wakes_the_waiting_worker_and_its_progress_wakes_the_api(
    live: tuple[Arena, sessionmaker[Session], Settings], notifier: Recording, tmp_path: Path
) -> None:
    arena, factory, settings = live
    assert settings.worker_poll_seconds >= 3600
    worker = Worker(
        factory,
        LocalStore(settings.storage_dir),
        settings,
        name="embedded",
        cache_dir=tmp_path / "cache",
        notifier=notifier,
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        assert not worker.run_once()  # the queue is empty: the thread is (or soon is) waiting
        expression = arena.planted[0]
        response = arena.submit(expression, arena.patch_model(expression))
        assert response.status_code == 202, response.text
        sub_id = response.json()["submission"]["id"]
        seen: list[str] = []
        while not seen or seen[-1] != "decided":
            mark = notifier.mark()
            status = _status(factory, sub_id)
            if not seen or seen[-1] != status:
                seen.append(status)
            elif status != "decided":
                assert notifier.wait(mark, DEADLINE_SECONDS), f"no progress after {seen}"
        assert seen[-1] == "decided"
        assert set(seen) <= {"queued", "running", "evaluated", "decided"}
        # Every change is announced as about this submission, so that only its own event
        # streams wake up (not every team's): the submit, the claim, the evaluation, the verdict.
        assert notifier.events.count(frozenset({about_submission(sub_id)})) >= 4
        assert all(event == {about_submission(sub_id)} for event in notifier.events)
    finally:
        stop.set()
        notifier.notify()
        thread.join()
    assert not thread.is_alive()  # set stop, then notify: the worker stops without polling
