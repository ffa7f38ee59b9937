"""The engine's view of a round: its rules, loss and feature schema, and the rows of its splits.

The evaluation (``app.evaluation``) and the round's own lifecycle (opening a round scores the
base model) both read a round through these."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, Literal

import pandas as pd

from app.core.errors import engine_problem
from app.core.storage import ArtifactStore
from app.rounds.models import Round
from app.rounds.problems import NoDataset
from bounty_engine.data import read_table
from bounty_engine.error_rates import positive_class
from bounty_engine.errors import EngineError
from bounty_engine.losses import Loss, LossKind, cost_matrix
from bounty_engine.round import RoundRules
from bounty_engine.schema import FeatureSchema
from bounty_engine.significance import AcceptanceTest

SplitName = Literal["train", "holdout", "test"]
SPLITS: Final[tuple[SplitName, ...]] = ("train", "holdout", "test")


def round_rules(round: Round) -> RoundRules:
    """The settings that decide the round's submissions, for the engine."""
    return RoundRules(
        loss=round_loss(round),
        alpha=round.alpha,
        min_group_rows=round.min_group_rows,
        repair_alpha=round.repair_alpha,
        acceptance_test=AcceptanceTest(round.acceptance_test),
        confidence=round.confidence,
        planned_submissions=round.planned_submissions,
        test_guard=round.test_guard and round.n_test > 0,
        pos_label=None
        if round.feature_schema is None
        else positive_class(round_schema(round).label),
    )


def round_loss(round: Round) -> Loss:
    """The round's per-row loss."""
    return Loss(LossKind(round.loss_kind), round.loss_clip, cost_matrix(round.loss_costs))


def round_schema(round: Round) -> FeatureSchema:
    """The round's feature schema; 409 if no dataset has been uploaded."""
    if round.feature_schema is None:
        raise NoDataset("the round has no dataset yet; upload one first")
    return FeatureSchema.model_validate(round.feature_schema)


def load_split(store: ArtifactStore, round: Round, name: str) -> pd.DataFrame:
    """The rows (features and label) of split ``name`` (train, holdout or test) of the round.

    409 if the round has no such split (no dataset yet, or an empty test split).
    """
    if name not in SPLITS:
        raise ValueError(f"unknown split {name!r}")
    sha: str | None = getattr(round, f"{name}_sha")
    if sha is None or getattr(round, f"n_{name}") == 0:
        raise NoDataset(f"the round has no {name} split")
    with store.local_copy(sha) as path:
        return read_table(path, format="parquet")


@contextmanager
def engine_errors(field: str | None = None) -> Iterator[None]:
    """Turn engine errors raised inside into 422 problems with the engine's message."""
    try:
        yield
    except EngineError as exc:
        raise engine_problem(exc, field=field) from exc
