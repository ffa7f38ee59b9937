"""Wake-ups between the API and an evaluation worker running in the same process.

The embedded default runs both in one process: a new submission wakes the worker at once, and
a status change wakes the event streams (SSE) that follow it, instead of each waiting out its
poll interval. Waiters always re-read the database when woken, and poll anyway, so a missed or
spurious wake-up costs latency, never correctness; processes on other machines just poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading


class Notifier:
    """A counter of "something changed" events that threads and coroutines can wait on.

    Take a ``mark()`` *before* reading the state you wait to see change, then ``wait`` (or
    ``wait_async``) with that mark: an event between the read and the wait is not lost.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0
        self._futures: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()

    def mark(self) -> int:
        """The current event count."""
        with self._changed:
            return self._count

    def notify(self) -> None:
        """Record an event and wake every waiter (callable from any thread)."""
        with self._changed:
            self._count += 1
            self._changed.notify_all()
            futures, self._futures = self._futures, set()
        for loop, future in futures:
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits there
                loop.call_soon_threadsafe(_settle, future)

    def wait(self, mark: int, timeout: float) -> bool:
        """Block until an event after ``mark``, at most ``timeout`` seconds; whether one came."""
        with self._changed:
            return self._changed.wait_for(lambda: self._count != mark, timeout)

    async def wait_async(self, mark: int, timeout: float) -> bool:
        """``wait`` for coroutines: does not block the event loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future)
        with self._changed:
            if self._count != mark:
                return True
            self._futures.add(entry)
        try:
            done, _ = await asyncio.wait([future], timeout=timeout)
        finally:
            with self._changed:
                self._futures.discard(entry)
        return bool(done)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
