"""Round inputs and each worker's cache of a round's decision state, rebuilt when the round's
version moves.

The state is the engine's ``BountyEvaluator`` on the round's holdout (deciding), train and
test splits, fitted from the base model's predictions and replayed through the stored outputs
of the accepted submissions, plus the feature files that evaluations read.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.storage import ArtifactStore
from app.evaluation.outputs import load_outputs
from app.evaluation.sandbox import Limits, PairFiles, run_sandboxed
from app.evaluation.verdicts import TESTED
from app.rounds.engine_view import load_split, round_rules, round_schema
from app.rounds.models import ModelVersion, Round
from app.submissions.models import Submission
from bounty_engine.data import label_values, prepare_features
from bounty_engine.decision import BountyEvaluator
from bounty_engine.predictions import encode_labels
from bounty_engine.schema import FeatureSchema

SPLITS = ("holdout", "train", "test")
Array = npt.NDArray[np.generic]


@dataclass
class RoundState:
    """What a worker needs to evaluate and decide a round's submissions."""

    schema: FeatureSchema
    feature_files: dict[str, Path]
    n_rows: dict[str, int]
    evaluator: BountyEvaluator
    token: tuple[int, int | None] = (0, None)


class StateError(RuntimeError):
    """The stored round does not replay to its recorded version."""


class RoundCache:
    """Round states by round id, kept while the round's head version is unchanged."""

    def __init__(self, store: ArtifactStore, cache_dir: Path, limits: Limits) -> None:
        self.store = store
        self.cache_dir = cache_dir
        self.limits = limits
        self._states: dict[int, RoundState] = {}

    def invalidate(self, round_id: int) -> None:
        """Forget a round's state (after a failed decision, or a replay)."""
        self._states.pop(round_id, None)

    def inputs(self, round_: Round) -> RoundState:
        """The round's schema and feature files, without fitting (for evaluations)."""
        state = self._states.get(round_.id)
        return state if state is not None else self._prepare(round_)

    def state(self, session: Session, round_: Round) -> RoundState:
        """The round's decision state at its current head version."""
        token = _version_token(session, round_)
        state = self._states.get(round_.id)
        if state is None or state.token != token:
            state = self._rebuild(session, round_)
            state.token = token
            self._states[round_.id] = state
        return state

    def keep(self, session: Session, round_: Round, state: RoundState) -> None:
        """Remember ``state`` as the round's current one (after a decision or a replay)."""
        session.flush()
        state.token = _version_token(session, round_)
        self._states[round_.id] = state

    def fresh(self, round_: Round) -> RoundState:
        """The round's state at version 0 (the base model), for a replay."""
        frames = {split: load_split(self.store, round_, split) for split in _present(round_)}
        state = self._prepare(round_, frames)
        labels = {
            split: encode_labels(label_values(frame, state.schema), state.schema.label)
            for split, frame in frames.items()
        }
        state.evaluator.fit(labels, self._base_predictions(round_, state))
        return state

    def _prepare(
        self, round_: Round, frames: Mapping[str, pd.DataFrame] | None = None
    ) -> RoundState:
        """The schema, the feature files (written once per machine) and an unfitted evaluator;
        splits are read from the store only if ``frames`` lacks them and their file is new."""
        schema = round_schema(round_)
        folder = self.cache_dir / f"round-{round_.id}"
        folder.mkdir(parents=True, exist_ok=True)
        files, sizes = {}, {}
        for split in _present(round_):
            path = folder / f"features-{split}.parquet"
            if not path.exists():
                frame = (frames or {}).get(split)
                if frame is None:
                    frame = load_split(self.store, round_, split)
                # A temporary file of this writer's own: workers on one machine share the
                # folder, and two writing one temporary name would publish each other's halves.
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
                os.close(fd)
                try:
                    prepare_features(frame, schema).to_parquet(tmp)
                    os.replace(tmp, path)
                finally:
                    Path(tmp).unlink(missing_ok=True)
            files[split] = path
            sizes[split] = getattr(round_, f"n_{split}")
        return RoundState(schema, files, sizes, round_rules(round_).evaluator())

    def _rebuild(self, session: Session, round_: Round) -> RoundState:
        state = self.fresh(round_)
        tested = session.execute(
            select(
                Submission.id, Submission.outcome, Submission.outputs_sha, Submission.released_at
            )
            .where(Submission.round_id == round_.id, Submission.outcome.in_(TESTED))
            .order_by(Submission.id)
        ).all()
        # Only accepted pairs change the state; the rejected ones still count for the tests'
        # places in the round, which set their significance levels.
        for before, (sub_id, outcome, outputs_sha, released_at) in enumerate(tested):
            if outcome != "accepted":
                continue
            if outputs_sha is None:
                raise StateError(f"accepted submission {sub_id} has no stored outputs")
            decision = state.evaluator.decide(
                str(sub_id),
                load_outputs(self.store, outputs_sha),
                tested_before=before,
                release=released_at is not None,
            )
            if not decision.accepted:
                raise StateError(f"submission {sub_id} no longer replays as accepted")
        if state.evaluator.head_version != round_.head_version:
            raise StateError(
                f"round {round_.id} replays to version {state.evaluator.head_version}, "
                f"but its head is version {round_.head_version}"
            )
        return state

    def _base_predictions(self, round_: Round, state: RoundState) -> dict[str, Array]:
        if round_.base_model_sha is None:
            raise StateError(f"round {round_.id} has no base model")
        with self.store.local_copy(round_.base_model_sha) as model_path:
            outputs = run_sandboxed(
                PairFiles(model=model_path, group_expression="True"),
                state.schema,
                state.feature_files,
                state.n_rows,
                self.limits,
            )
        return {split: out.predictions for split, out in outputs.items()}


def _present(round_: Round) -> list[str]:
    """The round's non-empty splits, the deciding one first."""
    return [split for split in SPLITS if getattr(round_, f"n_{split}") > 0]


def _version_token(session: Session, round_: Round) -> tuple[int, int | None]:
    """Identifies the round's head: its number, and the row of that version (a replay that
    ends on the same number writes new rows, so a stale cache is still noticed)."""
    row = session.scalar(
        select(ModelVersion.id).where(
            ModelVersion.round_id == round_.id, ModelVersion.version == round_.head_version
        )
    )
    return round_.head_version, row
