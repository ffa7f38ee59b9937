"""Scoring a base model in the evaluation sandbox, for the rounds layer.

A round's base model is usually the organizer's own file, scored in the API when the round
opens. A model bundle (``ModelFormat.BUNDLE``: another round's whole model, as a follow-up
round starts from) holds participants' models, which run only in the sandbox
(docs/populations.md). The sandbox lives in ``app.evaluation``, above this layer, so the API
app hands the rounds' endpoints a scorer through ``app.state`` (``app.main``).
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request

from app.rounds.models import Round
from bounty_engine.decision import BountyEvaluator


class SandboxScoring(Protocol):
    """Fits a round's evaluator from its base model's predictions made in the sandbox."""

    def fitted_evaluator(self, round_: Round) -> BountyEvaluator:
        """The round's evaluator at version 0, its base model run in the sandbox."""
        ...


def sandbox_scoring(request: Request) -> SandboxScoring:
    """The API app's sandbox scorer."""
    scoring: SandboxScoring = request.app.state.sandbox_scoring
    return scoring


SandboxScoringDep = Annotated[SandboxScoring, Depends(sandbox_scoring)]
