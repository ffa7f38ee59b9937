"""The problems of the leaderboard and model downloads (see ``app.core.errors.Problem``)."""

from __future__ import annotations

from app.core.errors import Problem


class ModelIncomplete(Problem):
    status, slug, title = 409, "model-incomplete", "Model not downloadable"
