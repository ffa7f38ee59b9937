"""A population's figures: every measured version's loss and error rates on it, and each
accepted or watched group's, from the stored outputs (``bounty_engine.populations``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.storage import ArtifactStore
from app.evaluation.outputs import load_outputs
from app.populations.measure import SPLIT, needs_measuring
from app.populations.models import Population, PopulationOutput
from app.populations.schemas import (
    Figure,
    GroupOnPopulation,
    PopulationFiguresOut,
    PopulationOut,
    PopulationStatus,
    VersionOnPopulation,
)
from app.populations.service import read_population, watched_groups
from app.rounds.access import model_versions
from app.rounds.engine_view import round_loss, round_schema
from app.rounds.models import ModelVersion, Round
from app.submissions.models import Submission
from app.teams.models import Team
from bounty_engine.data import label_values, prepare_features
from bounty_engine.decision import PairOutput
from bounty_engine.error_rates import positive_class
from bounty_engine.groups import RuleGroup
from bounty_engine.losses import Loss
from bounty_engine.measures import Measure, measure
from bounty_engine.populations import VersionNode, version_predictions
from bounty_engine.predictions import encode_labels

Array = npt.NDArray[np.generic]


def population_out(session: Session, population: Population) -> PopulationOut:
    """The population and how far its measuring is."""
    status: PopulationStatus
    if population.error is not None:
        status = "failed"
    elif session.scalar(
        select(Population.id).where(Population.id == population.id, needs_measuring())
    ):
        status = "measuring"
    else:
        status = "measured"
    return PopulationOut(
        id=population.id,
        name=population.name,
        description=population.description,
        n_rows=population.n_rows,
        uploaded_by=population.uploaded_by,
        created_at=population.created_at,
        status=status,
        error=population.error,
    )


@dataclass
class _Measured:
    """The versions that have figures: their nodes, predictions and the pairs' outputs."""

    versions: list[ModelVersion]
    predictions: list[Array]
    outputs: dict[str, PairOutput]
    failed: str | None


def population_figures(
    session: Session, store: ArtifactStore, round_: Round, population: Population, *, exact: bool
) -> PopulationFiguresOut:
    """The figures of every measured version and group; ``exact`` (the organizer) adds each
    version's holdout loss for comparison."""
    versions = model_versions(session, round_)
    out = PopulationFiguresOut(
        population=population_out(session, population),
        loss=round_.loss_kind,
        head_version=round_.head_version,
        measured_version=None,
        versions=[],
        groups=[],
    )
    if population.base_outputs_sha is None:
        return out
    frame = read_population(store, population)
    schema = round_schema(round_)
    y = encode_labels(label_values(frame, schema), schema.label)
    loss, pos_label = round_loss(round_), positive_class(schema.label)
    measured = _measure_versions(session, store, population, versions)
    figures = [measure(loss, y, pred, pos_label=pos_label) for pred in measured.predictions]
    out.measured_version = len(measured.predictions) - 1
    out.failed_pair = measured.failed
    out.versions = [
        VersionOnPopulation(
            version=v.version,
            kind=v.kind,
            submission_id=v.submission_id,
            holdout_loss=v.holdout_loss if exact else None,
            **_figure(figure).model_dump(),
        )
        for v, figure in zip(measured.versions, figures, strict=True)
    ]
    out.groups = _accepted_groups(session, loss, y, measured, pos_label) + _watched_groups(
        session, round_, frame, loss, y, measured, pos_label
    )
    return out


def _measure_versions(
    session: Session, store: ArtifactStore, population: Population, versions: list[ModelVersion]
) -> _Measured:
    """Predictions of versions 0, 1, ... up to the first one without a usable output."""
    rows = {
        row.submission_id: row
        for row in session.scalars(
            select(PopulationOutput).where(PopulationOutput.population_id == population.id)
        )
    }
    base = load_outputs(store, population.base_outputs_sha or "")[SPLIT].predictions
    outputs: dict[str, PairOutput] = {}
    nodes: list[VersionNode] = []
    failed = None
    for v in versions[1:]:
        key = str(v.submission_id)
        if v.kind == "patch":
            row = rows.get(v.submission_id) if v.submission_id is not None else None
            if row is None or row.outputs_sha is None:
                if row is not None:
                    failed = f"version {v.version}: the pair failed on this population: {row.error}"
                break
            outputs[key] = load_outputs(store, row.outputs_sha)[SPLIT]
        nodes.append(
            VersionNode("patch", key)
            if v.kind == "patch"
            else VersionNode("pointer", key, v.target_version)
        )
    return _Measured(
        versions[: len(nodes) + 1], version_predictions(base, nodes, outputs), outputs, failed
    )


def _figure(m: Measure) -> Figure:
    rates = m.rates
    return Figure(
        loss=m.loss,
        false_positive_rate=rates.false_positive_rate if rates else None,
        false_negative_rate=rates.false_negative_rate if rates else None,
    )


def _accepted_groups(
    session: Session, loss: Loss, y: Array, measured: _Measured, pos_label: int | None
) -> list[GroupOnPopulation]:
    patches = [v for v in measured.versions if v.kind == "patch" and v.submission_id is not None]
    about = {
        sub_id: (team, expression)
        for sub_id, team, expression in session.execute(
            select(Submission.id, Team.name, Submission.group_expression)
            .join(Team, Team.id == Submission.team_id)
            .where(Submission.id.in_([v.submission_id for v in patches]))
        )
    }
    head = measured.predictions[-1]
    groups = []
    for v in patches:
        team, expression = about.get(v.submission_id or 0, (None, None))
        mask = np.asarray(measured.outputs[str(v.submission_id)].mask)

        def on(pred: Array, mask: npt.NDArray[np.bool_] = mask) -> Figure:
            return _figure(measure(loss, y, pred, mask, pos_label))

        groups.append(
            GroupOnPopulation(
                kind="accepted",
                group=expression or "group model",
                submission_id=v.submission_id,
                team=team,
                version=v.version,
                rows=int(mask.sum()),
                base=on(measured.predictions[0]),
                before=on(measured.predictions[v.version - 1]),
                after=on(measured.predictions[v.version]),
                head=on(head),
            )
        )
    return groups


def _watched_groups(  # noqa: PLR0917 (the figures' inputs)
    session: Session,
    round_: Round,
    frame: pd.DataFrame,
    loss: Loss,
    y: Array,
    measured: _Measured,
    pos_label: int | None,
) -> list[GroupOnPopulation]:
    watched = watched_groups(session, round_)
    if not watched:
        return []
    schema = round_schema(round_)
    features = prepare_features(frame, schema)
    groups = []
    for group in watched:
        mask = RuleGroup.parse(group.expression, schema).mask(features)
        groups.append(
            GroupOnPopulation(
                kind="watched",
                group=group.expression,
                submission_id=None,
                team=None,
                version=None,
                rows=int(mask.sum()),
                base=_figure(measure(loss, y, measured.predictions[0], mask, pos_label)),
                head=_figure(measure(loss, y, measured.predictions[-1], mask, pos_label)),
            )
        )
    return groups
