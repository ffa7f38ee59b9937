"""A round's dataset: reading uploaded tables, splitting them, and storing the splits."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from app.auth.models import User
from app.core import audit
from app.core.errors import engine_problem
from app.core.storage import ArtifactStore
from app.rounds.access import require_draft
from app.rounds.base_model import clear_base_model
from app.rounds.engine_view import SPLITS, engine_errors, load_split, round_loss, round_schema
from app.rounds.models import Round
from app.rounds.problems import LossTaskMismatch
from bounty_engine.data import infer_schema, read_table, split_frame
from bounty_engine.errors import DataError
from bounty_engine.schema import FeatureSchema, Task


@dataclass(frozen=True)
class _Dataset:
    """A dataset ready to store: schema, splits, raw upload digests, fractions and seed."""

    schema: FeatureSchema
    splits: Mapping[str, pd.DataFrame]
    raw: Mapping[str, str]
    fractions: list[float]
    seed: int | None


@dataclass(frozen=True)
class SplitSpec:
    """How to split one uploaded table: the label column, fractions and seed."""

    label: str
    fractions: tuple[float, float, float]
    seed: int


def schema_for_task(frame: pd.DataFrame, label: str, task: Task) -> FeatureSchema:
    """The table's schema with ``label`` read for ``task``; 422 when the label does not fit.

    A numeric label that looks like classes (a few integers) may be read as a regression
    target; a text or real-valued label cannot be scored the other way.
    """
    with engine_errors("label"):
        schema = infer_schema(frame, label)
        if schema.label.task is task:
            return schema
        if task is Task.REGRESSION:
            try:
                return infer_schema(frame, label, task=task)
            except DataError:
                pass
    raise LossTaskMismatch(
        f"the label column {label!r} is a {schema.label.task.value} target, but the round's "
        f"loss needs a {task.value} target; choose another label, or change the loss "
        "(zero_one or cost for classification; squared or absolute for regression)",
    )


def check_costs_fit(costs: list[list[int]] | None, schema: FeatureSchema) -> None:
    """422 unless the cost matrix, if any, has a row and a column per class of the label."""
    if costs is None:
        return
    classes = schema.label.classes or []
    if len(costs) != len(classes):
        size = len(costs)
        raise LossTaskMismatch(
            f"the label {schema.label.name!r} has {len(classes)} classes "
            f"({', '.join(map(str, classes))}), but loss_costs is {size} x {size}: give one "
            "row (the truth) and one column (the prediction) per class, in that order",
        )


def import_table(
    session: Session,
    store: ArtifactStore,
    round: Round,
    user: User,
    *,
    path: Path,
    spec: SplitSpec,
) -> None:
    """Read one uploaded table, split it at random and store the splits as the round's data."""
    require_draft(round, "upload a dataset")
    with engine_errors("file"):
        frame = read_table(path)
    schema = schema_for_task(frame, spec.label, round_loss(round).task)
    check_costs_fit(round.loss_costs, schema)
    with engine_errors():
        split = split_frame(frame, spec.fractions, spec.seed)
    splits = {"train": split.train, "holdout": split.holdout, "test": split.test}
    raw = {"file": store.put_file(path)}
    dataset = _Dataset(schema, splits, raw, list(spec.fractions), spec.seed)
    _save_dataset(session, store, round, user, dataset)


def import_splits(
    session: Session,
    store: ArtifactStore,
    round: Round,
    user: User,
    *,
    paths: Mapping[str, Path],
    label: str,
) -> None:
    """Read three uploaded tables (train, holdout, test) as the round's data, as they are."""
    require_draft(round, "upload a dataset")
    frames: dict[str, pd.DataFrame] = {}
    for name in SPLITS:
        with engine_errors(name):
            frames[name] = read_table(paths[name])
    frames = _same_columns(frames)
    whole = pd.concat(list(frames.values()), ignore_index=True)
    schema = schema_for_task(whole, label, round_loss(round).task)
    check_costs_fit(round.loss_costs, schema)
    fractions = [len(frames[name]) / len(whole) for name in SPLITS]
    raw: dict[str, str] = {name: store.put_file(paths[name]) for name in SPLITS}
    _save_dataset(session, store, round, user, _Dataset(schema, frames, raw, fractions, None))


def store_splits(
    session: Session,
    store: ArtifactStore,
    round: Round,
    user: User,
    *,
    schema: FeatureSchema,
    splits: Mapping[str, pd.DataFrame],
    raw: Mapping[str, str],
) -> None:
    """Store ready splits under a known schema as the round's data (a follow-up round keeps
    its source round's schema, so that the source's model reads its data)."""
    require_draft(round, "upload a dataset")
    check_costs_fit(round.loss_costs, schema)
    total = sum(len(splits[name]) for name in SPLITS)
    fractions = [len(splits[name]) / total for name in SPLITS]
    _save_dataset(session, store, round, user, _Dataset(schema, splits, raw, fractions, None))


def _same_columns(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The frames with train's column order; 422 if another split has other columns."""
    columns = list(frames["train"].columns)
    for name, frame in frames.items():
        missing = [c for c in columns if c not in frame.columns]
        extra = [c for c in frame.columns if c not in columns]
        if missing or extra:
            detail = "; ".join(
                f"{what}: {', '.join(repr(c) for c in cols)}"
                for what, cols in (("missing", missing), ("extra", extra))
                if cols
            )
            raise engine_problem(
                DataError(f"the {name} file's columns differ from the train file's ({detail})"),
                field=name,
            )
    return {name: frame[columns] for name, frame in frames.items()}


def _save_dataset(
    session: Session,
    store: ArtifactStore,
    round: Round,
    user: User,
    dataset: _Dataset,
) -> None:
    """Store the splits as Parquet artifacts and point the round at them."""
    with tempfile.TemporaryDirectory(prefix="bounty-splits-") as tmp:
        for name in SPLITS:
            path = Path(tmp) / f"{name}.parquet"
            dataset.splits[name].to_parquet(path, index=False)
            setattr(round, f"{name}_sha", store.put_file(path))
            setattr(round, f"n_{name}", len(dataset.splits[name]))
    round.label = dataset.schema.label.name
    round.feature_schema = dataset.schema.model_dump(mode="json")
    round.split_fractions = dataset.fractions
    round.split_seed = dataset.seed
    clear_base_model(round)
    audit.record(
        session,
        "round.dataset_uploaded",
        round_id=round.id,
        actor_id=user.id,
        raw_sha256=dict(dataset.raw),
        label=round.label,
        sizes={name: len(dataset.splits[name]) for name in SPLITS},
    )


def refit_schema_to_loss(store: ArtifactStore, round: Round, task: Task) -> None:
    """Re-read the round's label for a loss of another task (422 if it cannot be)."""
    schema = round_schema(round)
    if schema.label.task is task:
        return
    present = [name for name in SPLITS if getattr(round, f"n_{name}") > 0]
    whole = pd.concat([load_split(store, round, name) for name in present], ignore_index=True)
    refit = schema_for_task(whole, schema.label.name, task)
    round.feature_schema = refit.model_dump(mode="json")
    clear_base_model(round)
