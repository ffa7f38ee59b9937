"""A small per-process cache of leaderboard answers, checked against a cheap round token.

The token changes whenever the answer could: a verdict (more decided submissions), a
disqualification, a new team, a lifecycle or disclosure change. It is read from the round's row,
which the request loads anyway, instead of re-ranking every submission of the round.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from app.rounds.models import Round

T = TypeVar("T")


def round_token(round_: Round) -> tuple[Any, ...]:
    """What the round's leaderboard depends on, read from its row: the revision (bumped by every
    verdict, disqualification and new team), the lifecycle status and the disclosure policy."""
    return (round_.revision, round_.status, round_.disclosure, round_.head_version)


class AnswerCache:
    """Answers by key, each valid while its token is unchanged (LRU, bounded)."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], token: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """``compute()``, reused while ``token`` is unchanged for ``key``."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == token:
                self._entries.move_to_end(key)
                value: T = hit[1]
                return value
        value = compute()
        with self._lock:
            self._entries[key] = (token, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value
