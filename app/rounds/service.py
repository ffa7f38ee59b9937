"""Rounds: settings, dataset and base model, lifecycle, and the helpers other domains import.

Other domains use ``get_round`` (404), ``require_organizer_of`` (403), ``load_split`` (a split's
rows), ``round_rules`` and ``round_schema`` (the engine's view of a round).
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import pandas as pd
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.core import audit
from app.core.db import utcnow
from app.core.errors import Problem, engine_problem
from app.core.storage import ArtifactStore
from app.rounds.models import ModelVersion, Round, RoundStatus
from app.rounds.schemas import (
    RULE_FIELDS,
    RoundCreate,
    RoundUpdate,
    check_loss_clip,
    check_schedule,
)
from app.rounds.train_predictions import store_train_predictions
from bounty_engine.baseline import train_default_model
from bounty_engine.data import infer_schema, prepare_features, read_table, split_frame
from bounty_engine.decision import BountyEvaluator
from bounty_engine.errors import DataError, EngineError
from bounty_engine.losses import Loss, LossKind
from bounty_engine.models import LoadedModel, dump_sklearn_model, load_model
from bounty_engine.predictions import encode_predictions
from bounty_engine.round import BountyRound, RoundRules
from bounty_engine.schema import FeatureSchema, Task
from bounty_engine.significance import AcceptanceTest

SplitName = Literal["train", "holdout", "test"]
SPLITS: Final[tuple[SplitName, ...]] = ("train", "holdout", "test")
"""Decimals of holdout numbers under the ``rounded`` disclosure."""
MODEL_CHECK_ROWS: Final = 500
"""Holdout rows an uploaded base model must predict at upload time."""
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_SLUG_BASE_LENGTH = 60


# --------------------------------------------------------------------------- lookups and access


def get_round(session: Session, slug: str, *, for_update: bool = False) -> Round:
    """The round called ``slug`` (its row locked with ``for_update``); 404 if there is none."""
    query = select(Round).where(Round.slug == slug)
    if for_update:
        # Locked, the row is re-read: values loaded earlier in the session may be stale.
        query = query.with_for_update().execution_options(populate_existing=True)
    found = session.scalar(query)
    if found is None:
        raise Problem(404, "round-not-found", f"there is no round {slug!r}")
    return found


def touch(session: Session, round_id: int) -> None:
    """Bump the round's revision: something its leaderboard shows has changed. Also takes the
    round's row lock until the transaction ends."""
    session.execute(update(Round).where(Round.id == round_id).values(revision=Round.revision + 1))


def is_organizer_of(round: Round, user: User | None) -> bool:
    """Whether ``user`` runs ``round``."""
    return user is not None and user.id == round.organizer_id


def require_organizer_of(round: Round, user: User | None) -> None:
    """403 unless ``user`` is the round's organizer."""
    if not is_organizer_of(round, user):
        raise Problem(403, "not-round-organizer", "only the organizer of this round may do this")


def visible_round(session: Session, slug: str, user: User | None) -> Round:
    """The round if ``user`` may see it: drafts only to their organizer (404 to anyone else)."""
    found = get_round(session, slug)
    if found.status == RoundStatus.DRAFT and not is_organizer_of(found, user):
        raise Problem(404, "round-not-found", f"there is no round {slug!r}")
    return found


def list_rounds(session: Session, user: User | None, *, limit: int, offset: int) -> list[Round]:
    """Non-draft rounds, plus the caller's own drafts for organizers; newest first."""
    visible: ColumnElement[bool] = Round.status != RoundStatus.DRAFT.value
    if user is not None and user.role == Role.ORGANIZER:
        visible = or_(visible, Round.organizer_id == user.id)
    query = (
        select(Round)
        .where(visible)
        .order_by(Round.created_at.desc(), Round.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query))


def model_versions(session: Session, round: Round) -> list[ModelVersion]:
    """The round's model versions, oldest first."""
    query = (
        select(ModelVersion).where(ModelVersion.round_id == round.id).order_by(ModelVersion.version)
    )
    return list(session.scalars(query))


def head_model_version(session: Session, round: Round) -> ModelVersion | None:
    """The row of the round's newest model version (None before the round opens)."""
    return session.scalar(
        select(ModelVersion).where(
            ModelVersion.round_id == round.id, ModelVersion.version == round.head_version
        )
    )


# --------------------------------------------------------------------------- the engine's view


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
    )


def round_loss(round: Round) -> Loss:
    """The round's per-row loss."""
    return Loss(LossKind(round.loss_kind), round.loss_clip)


def round_schema(round: Round) -> FeatureSchema:
    """The round's feature schema; 409 if no dataset has been uploaded."""
    if round.feature_schema is None:
        raise Problem(409, "no-dataset", "the round has no dataset yet; upload one first")
    return FeatureSchema.model_validate(round.feature_schema)


def load_split(store: ArtifactStore, round: Round, name: str) -> pd.DataFrame:
    """The rows (features and label) of split ``name`` (train, holdout or test) of the round.

    409 if the round has no such split (no dataset yet, or an empty test split).
    """
    if name not in SPLITS:
        raise ValueError(f"unknown split {name!r}")
    sha: str | None = getattr(round, f"{name}_sha")
    if sha is None or getattr(round, f"n_{name}") == 0:
        raise Problem(409, "no-dataset", f"the round has no {name} split")
    with store.local_copy(sha) as path:
        return read_table(path, format="parquet")


@contextmanager
def engine_errors(field: str | None = None) -> Iterator[None]:
    """Turn engine errors raised inside into 422 problems with the engine's message."""
    try:
        yield
    except EngineError as exc:
        raise engine_problem(exc, field=field) from exc


# --------------------------------------------------------------------------- settings


def slugify(title: str) -> str:
    """A URL name from a title: ASCII lowercase words joined by dashes."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = _SLUG_JUNK.sub("-", ascii_title.lower()).strip("-")
    return slug[:_SLUG_BASE_LENGTH].strip("-") or "round"


def _free_slug(session: Session, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``, ... whichever is free first."""
    taken = set(
        session.scalars(select(Round.slug).where(Round.slug.startswith(base, autoescape=True)))
    )
    if base not in taken:
        return base
    return next(f"{base}-{i}" for i in range(2, len(taken) + 3) if f"{base}-{i}" not in taken)


def create_round(session: Session, user: User, body: RoundCreate) -> Round:
    """A new draft round organized by ``user``; 409 if the requested slug is taken."""
    if body.slug is not None and session.scalar(select(Round.id).where(Round.slug == body.slug)):
        raise Problem(409, "slug-taken", f"the slug {body.slug!r} is already used by a round")
    settings = body.model_dump(exclude={"slug", "loss"})
    new = Round(
        slug=body.slug or _free_slug(session, slugify(body.title)),
        organizer_id=user.id,
        status=RoundStatus.DRAFT,
        loss_kind=body.loss.value,
        **settings,
    )
    try:
        with session.begin_nested():
            session.add(new)
    except IntegrityError as exc:
        raise Problem(409, "slug-taken", f"the slug {new.slug!r} was just taken; retry") from exc
    audit.record(session, "round.created", round_id=new.id, actor_id=user.id, slug=new.slug)
    return new


def update_round(
    session: Session, store: ArtifactStore, round: Round, user: User, body: RoundUpdate
) -> Round:
    """Apply ``body``: rules only in draft, anything only before the round is closed."""
    changes = body.changes()
    if round.status == RoundStatus.CLOSED:
        raise Problem(409, "round-closed", "the round is closed; it can no longer change")
    locked = sorted(RULE_FIELDS & changes.keys())
    if locked and round.status != RoundStatus.DRAFT:
        raise Problem(
            409,
            "rules-locked",
            f"the rules ({', '.join(locked)}) can only change while the round is a draft; "
            f"it is {round.status}",
        )
    _check_settings(round, changes)
    if "loss" in changes and round.feature_schema is not None:
        _refit_schema_to_loss(store, round, Loss(changes["loss"]).task)
    for name, value in changes.items():
        if name == "loss":
            round.loss_kind = value.value
        else:
            setattr(round, name, value)
    if changes:
        audit.record(
            session, "round.updated", round_id=round.id, actor_id=user.id, fields=sorted(changes)
        )
    return round


def _check_settings(round: Round, changes: Mapping[str, Any]) -> None:
    """422 unless the settings after ``changes`` are consistent."""

    def merged(name: str, current: Any) -> Any:
        return changes.get(name, current)

    try:
        check_loss_clip(
            merged("loss", LossKind(round.loss_kind)), merged("loss_clip", round.loss_clip)
        )
        check_schedule(merged("opens_at", round.opens_at), merged("closes_at", round.closes_at))
    except ValueError as exc:
        raise Problem(422, "invalid-settings", str(exc)) from exc


def _refit_schema_to_loss(store: ArtifactStore, round: Round, task: Task) -> None:
    """Re-read the round's label for a loss of another task (422 if it cannot be)."""
    schema = round_schema(round)
    if schema.label.task is task:
        return
    present = [name for name in SPLITS if getattr(round, f"n_{name}") > 0]
    whole = pd.concat([load_split(store, round, name) for name in present], ignore_index=True)
    refit = schema_for_task(whole, schema.label.name, task)
    round.feature_schema = refit.model_dump(mode="json")
    _clear_base_model(round)


# --------------------------------------------------------------------------- dataset


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
    raise Problem(
        422,
        "loss-task-mismatch",
        f"the label column {label!r} is a {schema.label.task.value} target, but the round's "
        f"loss needs a {task.value} target; choose another label, or change the loss "
        "(zero_one for classification; squared or absolute for regression)",
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
    fractions = [len(frames[name]) / len(whole) for name in SPLITS]
    raw: dict[str, str] = {name: store.put_file(paths[name]) for name in SPLITS}
    _save_dataset(session, store, round, user, _Dataset(schema, frames, raw, fractions, None))


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
    _clear_base_model(round)
    audit.record(
        session,
        "round.dataset_uploaded",
        round_id=round.id,
        actor_id=user.id,
        raw_sha256=dict(dataset.raw),
        label=round.label,
        sizes={name: len(dataset.splits[name]) for name in SPLITS},
    )


# --------------------------------------------------------------------------- base model


def upload_base_model(
    session: Session, store: ArtifactStore, round: Round, user: User, path: Path
) -> None:
    """Check the organizer's model file (safe loading, valid labels on holdout rows), store it."""
    require_draft(round, "set the base model")
    schema = round_schema(round)
    with engine_errors("file"):
        model = load_model(path, feature_names=schema.feature_names)
    holdout = load_split(store, round, "holdout")
    sample = holdout.sample(n=min(MODEL_CHECK_ROWS, len(holdout)), random_state=0)
    with engine_errors("file"):
        features = prepare_features(sample, schema)
        encode_predictions(model.predict(features), len(features), schema.label)
    _set_base_model(
        session,
        store,
        round,
        user,
        data=model.data,
        model_format=model.format.value,
        source="upload",
    )


def train_base_model(session: Session, store: ArtifactStore, round: Round, user: User) -> None:
    """Train the documented default model on the train split and make it the base model."""
    require_draft(round, "set the base model")
    schema = round_schema(round)
    train = load_split(store, round, "train")
    with engine_errors():
        pipeline = train_default_model(train, schema, seed=round.split_seed or 0)
    data = dump_sklearn_model(pipeline)
    _set_base_model(session, store, round, user, data=data, model_format="skops", source="default")


def _set_base_model(
    session: Session,
    store: ArtifactStore,
    round: Round,
    user: User,
    *,
    data: bytes,
    model_format: str,
    source: str,
) -> None:
    round.base_model_sha = store.put_bytes(data)
    round.base_model_format = model_format
    round.base_model_source = source
    audit.record(
        session,
        "round.base_model_set",
        round_id=round.id,
        actor_id=user.id,
        sha256=round.base_model_sha,
        source=source,
    )


def _clear_base_model(round: Round) -> None:
    round.base_model_sha = None
    round.base_model_format = None
    round.base_model_source = None


def _load_base_model(store: ArtifactStore, round: Round, schema: FeatureSchema) -> LoadedModel:
    if round.base_model_sha is None:
        raise Problem(
            409, "no-base-model", "the round has no base model; upload one or train the default"
        )
    with engine_errors():
        return load_model(
            store.read_bytes(round.base_model_sha), feature_names=schema.feature_names
        )


# --------------------------------------------------------------------------- lifecycle


def require_draft(round: Round, action: str) -> None:
    """409 unless the round is a draft."""
    require_status(round, (RoundStatus.DRAFT,), action)


def require_status(round: Round, allowed: tuple[RoundStatus, ...], action: str) -> None:
    """409 unless the round's status is one of ``allowed``."""
    if round.status not in allowed:
        wanted = " or ".join(status.value for status in allowed)
        raise Problem(
            409,
            "invalid-round-status",
            f"cannot {action}: the round is {round.status}, and this needs it to be {wanted}",
            round_status=str(round.status),
        )


def base_version(store: ArtifactStore, round_id: int, evaluator: BountyEvaluator) -> ModelVersion:
    """Version 0 of a round (the base model) as the fitted ``evaluator`` scores it, with its
    predictions on the train split stored."""
    losses = evaluator.versions_[0].loss
    return ModelVersion(
        round_id=round_id,
        version=0,
        kind="base",
        holdout_loss=losses["holdout"],
        train_loss=losses["train"],
        test_loss=losses.get("test"),
        train_predictions_sha=store_train_predictions(store, evaluator.head_predictions("train")),
    )


def open_round(session: Session, store: ArtifactStore, round: Round, user: User) -> None:
    """draft -> open: score the base model on every split and record version 0."""
    require_draft(round, "open the round")
    schema = round_schema(round)
    base = _load_base_model(store, round, schema)
    now = utcnow()
    if round.closes_at is not None and round.closes_at <= now:
        raise Problem(409, "schedule-passed", "closes_at is in the past; move it first")
    splits = {
        name: load_split(store, round, name)
        for name in ("holdout", "train", "test")
        if getattr(round, f"n_{name}") > 0
    }
    with engine_errors():
        evaluator = BountyRound(schema, round_rules(round), base, splits).evaluator
    losses = evaluator.versions_[0].loss
    version = base_version(store, round.id, evaluator)
    try:
        with session.begin_nested():
            session.add(version)
    except IntegrityError as exc:
        raise Problem(409, "invalid-round-status", "the round was opened meanwhile") from exc
    round.status = RoundStatus.OPEN
    round.head_version = 0
    if round.opens_at is None or round.opens_at > now:
        round.opens_at = now
    audit.record(session, "round.opened", round_id=round.id, actor_id=user.id, losses=losses)


def freeze_round(session: Session, round: Round, user: User) -> None:
    """open -> frozen: no new submissions; queued ones are still decided."""
    require_status(round, (RoundStatus.OPEN,), "freeze the round")
    round.status = RoundStatus.FROZEN
    audit.record(session, "round.frozen", round_id=round.id, actor_id=user.id)


def close_round(session: Session, round: Round, user: User) -> None:
    """open or frozen -> closed: final."""
    require_status(round, (RoundStatus.OPEN, RoundStatus.FROZEN), "close the round")
    now = utcnow()
    round.status = RoundStatus.CLOSED
    if round.closes_at is None or round.closes_at > now:
        round.closes_at = now
    audit.record(session, "round.closed", round_id=round.id, actor_id=user.id)
