"""A store that cannot take a job's outputs: the job goes back to the queue uncounted (it is not
the pair's fault), the worker keeps running, and the job is decided once the store works."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.core.settings import Settings
from app.core.storage import LocalStore, StorageError
from app.submissions.models import Submission
from app.worker.runner import Worker
from tests.submissions.conftest import Arena

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py


class FillingStore(LocalStore):
    """The real store, out of space for new blobs while ``full`` is set (counted in ``refused``)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.full = threading.Event()
        self.refused = 0

    def put_bytes(self, data: bytes) -> str:
        if self.full.is_set():
            self.refused += 1
            raise StorageError("cannot write to the artifact store: No space left", full=True)
        return super().put_bytes(data)


def _submission(factory: sessionmaker[Session]) -> Submission:
    with factory() as session:
        return session.scalars(select(Submission)).one()


def test_a_full_store_requeues_the_job_and_the_worker_goes_on(
    live: tuple[Arena, sessionmaker[Session], Settings], tmp_path: Path
) -> None:
    arena, factory, settings = live
    assert arena.submit(arena.planted[0], arena.patch_model(arena.planted[0])).status_code == 202
    store = FillingStore(settings.storage_dir)
    worker = Worker(
        factory,
        store,
        settings.model_copy(update={"worker_poll_seconds": 0.05}),
        name="w",
        cache_dir=tmp_path / "cache",
    )
    store.full.set()
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while store.refused < 2 and time.monotonic() < deadline:  # tried, backed off, tried again
            stop.wait(0.05)
        assert store.refused >= 2
        assert thread.is_alive()
        queued = _submission(factory)
        assert queued.outcome is None
        assert queued.attempts <= 1  # a refused write is not counted against the pair
        store.full.clear()
        while _submission(factory).outcome is None and time.monotonic() < deadline:
            stop.wait(0.05)
    finally:
        stop.set()
        worker.notifier.notify()
        thread.join(timeout=60)
    decided = _submission(factory)
    assert (decided.status, decided.outcome) == ("decided", "accepted")
    assert decided.eval_error is None
