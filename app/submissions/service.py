"""Receiving submissions: streaming uploads, validation on a public sample, quotas, idempotency."""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from datetime import time as dt_time

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.core.db import utcnow
from app.core.errors import ProblemError, engine_problem
from app.core.storage import ArtifactStore
from app.rounds.access import head_model_version
from app.rounds.engine_view import round_loss, round_schema
from app.rounds.models import Round
from app.rounds.problems import RoundHasNoData
from app.rounds.train_predictions import load_train_predictions
from app.submissions.models import Submission
from app.submissions.problems import QuotaExceeded
from app.submissions.schemas import ExpressionCheckOut, QuotaOut
from app.teams.models import Team
from bounty_engine.data import label_values, prepare_features
from bounty_engine.error_rates import positive_class
from bounty_engine.errors import EngineError
from bounty_engine.groups import RuleGroup
from bounty_engine.measures import measure
from bounty_engine.predictions import encode_labels

log = logging.getLogger("bounty.submissions")

SAMPLE_ROWS = 200

# Verdicts of jobs the platform gave up on; neither counts against a team's daily quota.
ABANDONED = "the evaluation was interrupted repeatedly and was abandoned"
PLATFORM_ABANDONED = (
    "the platform failed to run the evaluation repeatedly (not the pair's fault), so it was "
    "abandoned; it does not count against the team's daily quota: submit the pair again"
)


def quota(session: Session, round_: Round, team: Team) -> QuotaOut:
    """The team's submissions today (UTC) against the round's daily quota. A submission the
    platform abandoned (it could not evaluate it: not the pair's fault) does not count."""
    now = utcnow()
    day_start = datetime.combine(now.date(), dt_time(), tzinfo=now.tzinfo)
    used = (
        session.scalar(
            select(func.count(Submission.id)).where(
                Submission.team_id == team.id,
                Submission.created_at >= day_start,
                or_(
                    Submission.eval_error.is_(None),
                    Submission.eval_error.not_in((ABANDONED, PLATFORM_ABANDONED)),
                ),
            )
        )
        or 0
    )
    return QuotaOut(
        limit=round_.daily_quota,
        used=used,
        remaining=max(0, round_.daily_quota - used),
        resets_at=day_start + timedelta(days=1),
    )


def require_quota(current: QuotaOut) -> None:
    """429 with the reset time when the team has no submissions left today."""
    if current.remaining <= 0:
        retry = max(1, int((current.resets_at - utcnow()).total_seconds()))
        raise QuotaExceeded(
            f"the team has used all {current.limit} submissions for today; "
            f"the quota resets at {current.resets_at.isoformat()}",
            headers={"Retry-After": str(retry)},
            quota=current.model_dump(mode="json"),
        )


_TRAIN_CACHE_SIZE = 4
_trains: OrderedDict[str, pd.DataFrame] = OrderedDict()  # by content digest: same bytes anywhere
_trains_lock = threading.Lock()


def _train_split(store: ArtifactStore, train_sha: str) -> pd.DataFrame:
    """The public train split with this digest (the last few read are kept in memory)."""
    with _trains_lock:
        table = _trains.get(train_sha)
        if table is None:
            table = pd.read_parquet(io.BytesIO(store.read_bytes(train_sha)))
            _trains[train_sha] = table
            if len(_trains) > _TRAIN_CACHE_SIZE:
                _trains.popitem(last=False)
        _trains.move_to_end(train_sha)
        return table


def _train_of(store: ArtifactStore, round_: Round) -> pd.DataFrame:
    if round_.train_sha is None:
        raise RoundHasNoData("the round has no data yet")
    return _train_split(store, round_.train_sha)


def public_sample(store: ArtifactStore, round_: Round) -> pd.DataFrame:
    """The first rows of the public train split, as models receive them."""
    return prepare_features(_train_of(store, round_).head(SAMPLE_ROWS), round_schema(round_))


def check_expression(
    session: Session, store: ArtifactStore, round_: Round, expression: str
) -> ExpressionCheckOut:
    """Whether ``expression`` is a valid group rule for the round, with the error's position if
    not; if it is, the group's size on the public train split and, once the round is open, the
    current model's loss and error rates there (all public: the train split and the current
    model's predictions on it)."""
    schema = round_schema(round_)
    try:
        group = RuleGroup.parse(expression, schema)
    except EngineError as exc:
        error = ProblemError.model_validate(engine_problem(exc).extra["errors"][0])
        return ExpressionCheckOut(expression=expression, valid=False, error=error)
    train = _train_of(store, round_)
    mask = group.mask(prepare_features(train, schema))
    rows = int(mask.sum())
    figures: dict[str, float | None] = {}
    head = head_model_version(session, round_)
    if head is not None and head.train_predictions_sha is not None and rows:
        truth = encode_labels(label_values(train, schema), schema.label)
        current = load_train_predictions(store, head.train_predictions_sha)
        on_group = measure(round_loss(round_), truth, current, mask, positive_class(schema.label))
        rates = on_group.rates
        figures = {
            "train_loss": on_group.loss,
            "train_false_positive_rate": rates.false_positive_rate if rates else None,
            "train_false_negative_rate": rates.false_negative_rate if rates else None,
        }
    return ExpressionCheckOut(
        expression=expression,
        valid=True,
        canonical=group.rule.canonical,
        columns=list(group.columns),
        train_rows=rows,
        train_share=rows / len(train) if len(train) else 0.0,
        **figures,
    )
