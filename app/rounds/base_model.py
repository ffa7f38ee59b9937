"""A round's base model: an uploaded file (loaded safely, checked on holdout rows) or the
documented default trained on the train split."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session

from app.auth.models import User
from app.core import audit
from app.core.errors import engine_problem
from app.core.storage import ArtifactStore
from app.rounds.access import require_draft
from app.rounds.engine_view import engine_errors, load_split, round_schema
from app.rounds.models import Round
from app.rounds.problems import NoBaseModel
from bounty_engine.data import prepare_features
from bounty_engine.errors import ModelLoadError
from bounty_engine.models import LoadedModel, ModelFormat, dump_sklearn_model, load_model
from bounty_engine.predictions import encode_predictions
from bounty_engine.schema import FeatureSchema

MODEL_CHECK_ROWS: Final = 500
"""Holdout rows an uploaded base model must predict at upload time."""


def upload_base_model(
    session: Session, store: ArtifactStore, round: Round, user: User, path: Path
) -> None:
    """Check the organizer's model file (safe loading, valid labels on holdout rows), store it."""
    require_draft(round, "set the base model")
    schema = round_schema(round)
    with engine_errors("file"):
        model = load_model(path, feature_names=schema.feature_names)
    if model.format is not ModelFormat.BUNDLE:  # a bundle runs only in the sandbox, at opening
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


def set_exported_base_model(
    session: Session, store: ArtifactStore, round: Round, user: User, bundle: bytes
) -> None:
    """Make a model bundle the platform exported (another round's model) the base model. It is
    loaded here (the safe loaders, the columns checked) but not run: it holds participants'
    models, which run only in the sandbox, when the round opens (``app.rounds.scoring``)."""
    require_draft(round, "set the base model")
    schema = round_schema(round)
    with engine_errors("file"):
        model = load_model(bundle, feature_names=schema.feature_names)
    if model.format is not ModelFormat.BUNDLE:
        raise engine_problem(ModelLoadError("this is not a model bundle"), field="file")
    _set_base_model(
        session, store, round, user, data=bundle, model_format=model.format.value, source="bundle"
    )


def train_base_model(session: Session, store: ArtifactStore, round: Round, user: User) -> None:
    """Train the documented default model on the train split and make it the base model."""
    # scikit-learn only when a model is trained (about two seconds of every server's start).
    from bounty_engine.baseline import train_default_model  # noqa: PLC0415

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


def clear_base_model(round: Round) -> None:
    round.base_model_sha = None
    round.base_model_format = None
    round.base_model_source = None


def load_base_model(store: ArtifactStore, round: Round, schema: FeatureSchema) -> LoadedModel:
    if round.base_model_sha is None:
        raise NoBaseModel("the round has no base model; upload one or train the default")
    with engine_errors():
        return load_model(
            store.read_bytes(round.base_model_sha), feature_names=schema.feature_names
        )
