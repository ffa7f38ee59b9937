"""Rounds, their datasets and model versions as a viewer may see them."""

from __future__ import annotations

from app.auth.models import User
from app.rounds import access, engine_view
from app.rounds.disclosure import disclosure_for, holdout_mean
from app.rounds.engine_view import round_schema
from app.rounds.models import Disclosure, ModelVersion, Round
from app.rounds.schemas import (
    AcceptanceOut,
    AlphaMeaning,
    BaseModelOut,
    DataOut,
    DatasetOut,
    RoundOut,
    RulesOut,
    VersionOut,
)
from bounty_engine.losses import LossKind
from bounty_engine.significance import AcceptanceTest


def rules_out(round: Round) -> RulesOut:
    """The round's rules as the API shows them."""
    return RulesOut(
        loss=LossKind(round.loss_kind),
        loss_clip=round.loss_clip,
        loss_costs=round.loss_costs,
        alpha=round.alpha,
        min_group_rows=round.min_group_rows,
        repair_alpha=round.repair_alpha,
        acceptance_test=AcceptanceTest(round.acceptance_test),
        confidence=round.confidence,
        planned_submissions=round.planned_submissions,
        test_guard=round.test_guard,
        daily_quota=round.daily_quota,
        disclosure=round.disclosure,
        max_team_size=round.max_team_size,
    )


def data_out(round: Round, organizer: bool) -> DataOut | None:
    """The round's dataset sizes (the split seed to its organizer only); None before one."""
    if round.feature_schema is None:
        return None
    schema = engine_view.round_schema(round)
    return DataOut(
        label=schema.label.name,
        task=schema.label.task,
        n_features=len(schema.features),
        n_train=round.n_train,
        n_holdout=round.n_holdout,
        n_test=round.n_test,
        split_fractions=round.split_fractions,
        split_seed=round.split_seed if organizer else None,
    )


def alpha_meaning(round: Round) -> AlphaMeaning | None:
    """What the threshold alpha means on this round's holdout; None before a dataset."""
    if round.feature_schema is None:
        return None
    return AlphaMeaning.build(
        LossKind(round.loss_kind), round.alpha, round.n_holdout, round.min_group_rows
    )


def costs_explained(round: Round) -> str | None:
    """A cost round's matrix in words; None for other losses."""
    if round.loss_costs is None:
        return None
    n = len(round.loss_costs)
    classes = None if round.feature_schema is None else round_schema(round).label.classes
    names = (
        [str(c) for c in classes]
        if classes and len(classes) == n
        else [f"class {i}" for i in range(n)]
    )
    parts = [
        f"predicting {names[j]} when the truth is {names[i]} costs {cost}"
        for i, row in enumerate(round.loss_costs)
        for j, cost in enumerate(row)
        if i != j
    ]
    right = {row[i] for i, row in enumerate(round.loss_costs)}
    tail = (
        "right predictions cost nothing"
        if right == {0}
        else "; ".join(
            f"predicting {names[i]} rightly costs {round.loss_costs[i][i]}" for i in range(n)
        )
    )
    text = "; ".join([*parts, tail]) + "."
    return text[0].upper() + text[1:]


def base_model_out(round: Round) -> BaseModelOut | None:
    """The base model's format, source and digest; None before one is set."""
    if round.base_model_sha is None:
        return None
    return BaseModelOut(
        format=round.base_model_format or "",
        source=round.base_model_source or "",
        sha256=round.base_model_sha,
    )


def round_out(round: Round, user: User | None) -> RoundOut:
    """The round as ``user`` may see it."""
    return RoundOut(
        id=round.id,
        slug=round.slug,
        title=round.title,
        description=round.description,
        status=round.status,
        organizer_id=round.organizer_id,
        created_at=round.created_at,
        opens_at=round.opens_at,
        closes_at=round.closes_at,
        rules=rules_out(round),
        data=data_out(round, access.is_organizer_of(round, user)),
        base_model=base_model_out(round),
        alpha_meaning=alpha_meaning(round),
        costs_explained=costs_explained(round),
        acceptance=AcceptanceOut.build(
            AcceptanceTest(round.acceptance_test),
            loss=LossKind(round.loss_kind),
            confidence=round.confidence,
            planned=round.planned_submissions,
            disclosure=Disclosure(round.disclosure),
            test_guard=round.test_guard,
        ),
        head_version=round.head_version,
    )


def dataset_out(round: Round) -> DatasetOut:
    """The dataset just stored, for its organizer."""
    data, meaning = data_out(round, organizer=True), alpha_meaning(round)
    assert data is not None  # noqa: S101 (just stored)
    assert meaning is not None  # noqa: S101
    return DatasetOut(
        feature_schema=engine_view.round_schema(round), data=data, alpha_meaning=meaning
    )


def version_out(version: ModelVersion, round: Round, organizer: bool) -> VersionOut:
    """A model version, its holdout loss as the viewer may see it (test loss: organizer)."""
    holdout = holdout_mean(version.holdout_loss, round, disclosure_for(round, organizer=organizer))
    return VersionOut(
        version=version.version,
        kind=version.kind,
        submission_id=version.submission_id,
        target_version=version.target_version,
        train_loss=version.train_loss,
        holdout_loss=holdout,
        test_loss=version.test_loss if organizer else None,
        created_at=version.created_at,
    )
