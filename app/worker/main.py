"""Starting a worker from the settings, with clean shutdown on SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from app.core.db import engine_from_settings, make_session_factory
from app.core.settings import Settings
from app.core.storage import make_store
from app.worker.runner import Worker


def worker_from_settings(settings: Settings, name: str | None = None) -> Worker:
    """A worker on the database and artifact store the settings name."""
    factory = make_session_factory(engine_from_settings(settings))
    return Worker(factory, make_store(settings), settings, name=name)


def run_worker(settings: Settings, *, once: bool = False) -> None:
    """Work until interrupted (or, with ``once``, until the queue is empty)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    worker = worker_from_settings(settings)
    if once:
        while worker.run_once() or worker.decide_leftovers():
            pass
        return
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()
        # Wake the worker if it is waiting (from another thread: not inside a signal handler).
        threading.Thread(target=worker.notifier.notify, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.run(stop)
