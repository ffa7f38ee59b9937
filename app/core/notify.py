"""Wake-ups between the API and an evaluation worker running in the same process.

The embedded default runs both in one process: a new submission wakes the worker at once, and
a status change wakes the event streams (SSE) that follow it, instead of each waiting out its
poll interval. Waiters always re-read the database when woken, and poll anyway, so a missed or
spurious wake-up costs latency, never correctness; processes on other machines just poll.

An event may name topics (a submission's id, say): a waiter on a topic is woken only by
events naming it or naming none (an event about everything), so one verdict does not wake
every team's stream to re-read a submission that did not change.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Hashable

_REMEMBERED = 4096
"""How many recent events' topics are kept to answer "did my topic change since my mark"
(a mark older than that is answered yes: a spurious wake-up, which is allowed)."""

_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]", Hashable | None]


class Notifier:
    """A counter of "something changed" events that threads and coroutines can wait on.

    Take a ``mark()`` *before* reading the state you wait to see change, then ``wait`` (or
    ``wait_async``) with that mark: an event between the read and the wait is not lost.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0
        self._recent: deque[tuple[int, frozenset[Hashable]]] = deque(maxlen=_REMEMBERED)
        self._futures: set[_Waiter] = set()

    def mark(self) -> int:
        """The current event count."""
        with self._changed:
            return self._count

    def notify(self, *topics: Hashable) -> None:
        """Record an event about ``topics`` (about everything if none) and wake the waiters it
        concerns (callable from any thread)."""
        about = frozenset(topics)
        with self._changed:
            self._count += 1
            self._recent.append((self._count, about))
            self._changed.notify_all()
            woken = {w for w in self._futures if _concerns(about, w[2])}
            self._futures -= woken
        for loop, future, _ in woken:
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits there
                loop.call_soon_threadsafe(_settle, future)

    def wait(self, mark: int, timeout: float) -> bool:
        """Block until any event after ``mark``, at most ``timeout`` seconds; whether one came."""
        with self._changed:
            return self._changed.wait_for(lambda: self._count != mark, timeout)

    async def wait_async(self, mark: int, timeout: float, topic: Hashable | None = None) -> bool:
        """``wait`` for coroutines (does not block the event loop); with ``topic``, only events
        about it (or about everything) end the wait."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry: _Waiter = (loop, future, topic)
        with self._changed:
            if self._happened_since(mark, topic):
                return True
            self._futures.add(entry)
        try:
            done, _ = await asyncio.wait([future], timeout=timeout)
        finally:
            with self._changed:
                self._futures.discard(entry)
        return bool(done)

    def _happened_since(self, mark: int, topic: Hashable | None) -> bool:
        if self._count == mark:
            return False
        if topic is None or not self._recent or self._recent[0][0] > mark + 1:
            return True  # about anything, or older than what is remembered
        for count, about in reversed(self._recent):
            if count <= mark:
                return False
            if _concerns(about, topic):
                return True
        return False


def about_submission(submission_id: int) -> Hashable:
    """The topic of events that change a submission's status."""
    return ("submission", submission_id)


def _concerns(about: frozenset[Hashable], topic: Hashable | None) -> bool:
    return topic is None or not about or topic in about


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
