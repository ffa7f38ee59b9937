"""A small per-process cache of read answers (leaderboard, history, groups, feature usage, the
round itself), checked against a cheap round token.

The token is the round's whole row, which every such request loads anyway (to check that the
caller may see the round): any change to a column of the row gives a new token. Everything else
those answers show (teams, submissions and their verdicts, model versions) is only changed in a
transaction that also bumps the row's ``revision`` (``app.rounds.access.touch``): a new team or
an empty team gone, a new submission, a verdict, a disqualification or a release and the replay
they cause. The token is read from the database, so a change made by any process (another API
process, a worker) is seen by every process's next request; nothing has to be invalidated.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar

from fastapi import Request
from pydantic import BaseModel
from sqlalchemy import JSON, inspect

from app.core.etag import Answer
from app.rounds.models import Round

T = TypeVar("T")

_ROUND_COLUMNS: Final = tuple(
    (attr.key, isinstance(attr.columns[0].type, JSON)) for attr in inspect(Round).column_attrs
)
_FOLLOWER_WAIT_SECONDS: Final = 30.0


def round_token(round_: Round) -> tuple[Any, ...]:
    """What answers about the round depend on, read from its row: every column of it (among
    them the revision, bumped by every verdict, disqualification, release, new submission and
    team change). JSON columns are frozen as canonical text."""
    return tuple(
        json.dumps(getattr(round_, key), sort_keys=True) if is_json else getattr(round_, key)
        for key, is_json in _ROUND_COLUMNS
    )


def cached_answer(
    request: Request, key: tuple[Any, ...], round_: Round, build: Callable[[], BaseModel]
) -> Answer:
    """The answer for ``key`` (an endpoint, the round and what sets the caller's view of it),
    from the app's cache while the round's token is unchanged, else built and serialized once."""
    answers: AnswerCache = request.app.state.leaderboards
    return answers.get(key, round_token(round_), lambda: Answer.json(build()))


class _Flight(Generic[T]):
    """An answer being computed for one key and token; others asking for it wait for it."""

    def __init__(self, token: tuple[Any, ...]) -> None:
        self.token = token
        self.done = threading.Event()
        self.value: T | None = None
        self.ok = False


class AnswerCache:
    """Answers by key, each valid while its token is unchanged (LRU, bounded).

    Concurrent requests for the same key and token compute the answer once: after a verdict
    every poller misses at the same moment, and one of them recomputing is enough.
    """

    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = OrderedDict()
        self._flights: dict[tuple[Any, ...], _Flight[Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], token: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """``compute()``, reused while ``token`` is unchanged for ``key``."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == token:
                self._entries.move_to_end(key)
                value: T = hit[1]
                return value
            flight = self._flights.get(key)
            leader = flight is None or flight.token != token
            if leader:
                flight = self._flights[key] = _Flight(token)
        assert flight is not None  # noqa: S101 (for mypy)
        if not leader:
            # Another request computes this very answer: wait for it (or, if it fails or
            # takes too long, compute it here).
            if flight.done.wait(_FOLLOWER_WAIT_SECONDS) and flight.ok:
                shared: T = flight.value  # type: ignore[assignment]
                return shared
            return compute()
        try:
            value = compute()
        except BaseException:
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.done.set()
            raise
        with self._lock:
            self._entries[key] = (token, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.value, flight.ok = value, True
        flight.done.set()
        return value
