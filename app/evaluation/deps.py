"""Dependencies of the routes that run the evaluation in the API process."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from app.evaluation.cache import RoundCache
from app.evaluation.sandbox import Limits
from app.rounds.models import Round
from bounty_engine.decision import BountyEvaluator


def _cache_of(state: Any) -> RoundCache:
    cache: RoundCache | None = getattr(state, "round_cache", None)
    if cache is None:
        settings = state.settings
        cache = RoundCache(
            state.store, settings.storage_dir.parent / "api-cache", Limits.from_settings(settings)
        )
        state.round_cache = cache
    return cache


def round_cache(request: Request) -> RoundCache:
    """The API process's cache of round states (used for replays)."""
    return _cache_of(request.app.state)


class CacheScoring:
    """``app.rounds.scoring.SandboxScoring`` by the API process's round cache: the base model
    runs in the sandbox on every split, as the workers run it."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def fitted_evaluator(self, round_: Round) -> BountyEvaluator:
        """The round's evaluator at version 0, its base model run in the sandbox."""
        return _cache_of(self.state).fresh(round_).evaluator
