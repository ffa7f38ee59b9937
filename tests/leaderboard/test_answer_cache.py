"""The answer cache: a token covering the whole round row, one computation for concurrent
misses, and failures that are not cached."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, inspect

from app.rounds.answers import AnswerCache, round_token
from app.rounds.models import Round


def _value(column: Any, variant: int) -> Any:
    kind = column.type
    if isinstance(kind, JSON):
        return {"features": [{"name": f"x{variant}"}]}
    if isinstance(kind, Boolean):
        return bool(variant)
    if isinstance(kind, Float):
        return 0.5 + variant
    if isinstance(kind, Integer):
        return 7 + variant
    if isinstance(kind, DateTime) or "DateTime" in type(kind).__name__:
        return datetime(2026, 12, 6, tzinfo=UTC) + timedelta(seconds=variant)
    return f"value-{variant}"


def test_the_token_covers_every_column_of_the_round() -> None:
    columns = {attr.key: attr.columns[0] for attr in inspect(Round).column_attrs}
    assert {"revision", "status", "disclosure", "head_version", "title"} <= columns.keys()
    base = {key: _value(column, 0) for key, column in columns.items()}
    token = round_token(Round(**base))
    assert round_token(Round(**base)) == token
    for key, column in columns.items():
        changed = round_token(Round(**{**base, key: _value(column, 1)}))
        assert changed != token, key


def test_concurrent_misses_compute_once() -> None:
    cache = AnswerCache()
    calls: list[int] = []
    computing, release = threading.Event(), threading.Event()
    asking = threading.Semaphore(0)

    def compute() -> str:
        calls.append(1)
        computing.set()
        assert release.wait(5)
        return "answer"

    results: list[str] = []

    def ask() -> None:
        asking.release()
        results.append(cache.get(("board", 1), (1,), compute))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    threads[0].start()
    assert computing.wait(5)  # the first asker computes, and holds the answer back
    for thread in threads[1:]:
        thread.start()
    for _ in threads:  # every asker has asked (or is about to) while the answer is held
        assert asking.acquire(timeout=5)
    release.set()
    for thread in threads:
        thread.join()
    assert results == ["answer"] * 8
    assert len(calls) == 1
    assert cache.get(("board", 1), (1,), compute) == "answer"
    assert len(calls) == 1
    assert cache.get(("board", 1), (2,), lambda: "new") == "new"  # a new token: recomputed
    assert cache.get(("board", 2), (1,), lambda: "other") == "other"  # another key


def test_a_failed_computation_is_not_cached_and_waiters_compute_their_own() -> None:
    cache = AnswerCache()
    leader_in = threading.Event()
    release = threading.Event()

    def failing() -> str:
        leader_in.set()
        release.wait(5)
        raise RuntimeError("database went away")

    errors: list[BaseException] = []

    def lead() -> None:
        try:
            cache.get(("k",), (1,), failing)
        except RuntimeError as exc:
            errors.append(exc)

    leader = threading.Thread(target=lead)
    leader.start()
    assert leader_in.wait(5)
    follower_result: list[str] = []
    asking = threading.Event()

    def follow() -> None:
        asking.set()
        follower_result.append(cache.get(("k",), (1,), lambda: "recovered"))

    follower = threading.Thread(target=follow)
    follower.start()
    assert asking.wait(5)  # it asks while the first computation is still running
    release.set()
    leader.join()
    follower.join()
    assert len(errors) == 1
    assert follower_result == ["recovered"]
    with pytest.raises(RuntimeError):
        cache.get(("j",), (1,), failing)
    assert cache.get(("j",), (1,), lambda: "later") == "later"


def test_entries_are_bounded() -> None:
    cache = AnswerCache(max_entries=3)
    for i in range(5):
        cache.get((i,), (0,), lambda i=i: i)
    recomputed: list[int] = []
    assert cache.get((0,), (0,), lambda: recomputed.append(0) or 0) == 0
    assert recomputed == [0]  # the oldest was evicted
    assert cache.get((4,), (0,), lambda: -1) == 4
