"""Dependencies of the routes that run the evaluation in the API process."""

from __future__ import annotations

from fastapi import Request

from app.evaluation.cache import RoundCache
from app.evaluation.sandbox import Limits


def round_cache(request: Request) -> RoundCache:
    """The API process's cache of round states (used for replays)."""
    cache: RoundCache | None = getattr(request.app.state, "round_cache", None)
    if cache is None:
        settings = request.app.state.settings
        cache = RoundCache(
            request.app.state.store,
            settings.storage_dir.parent / "api-cache",
            Limits.from_settings(settings),
        )
        request.app.state.round_cache = cache
    return cache
