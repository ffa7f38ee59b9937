"""Receiving submissions: streaming uploads, validation on a public sample, quotas, idempotency."""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.core.db import utcnow
from app.core.errors import Problem, ProblemError, engine_problem, evaluation_unavailable
from app.core.settings import Settings
from app.core.storage import ArtifactStore
from app.rounds.models import Round
from app.rounds.service import round_schema
from app.submissions.models import Submission
from app.submissions.schemas import ExpressionCheckOut, QuotaOut
from app.teams.models import Team
from app.worker.runner import ABANDONED, PLATFORM_ABANDONED
from app.worker.sandbox import (
    Limits,
    PairFiles,
    SandboxError,
    SandboxUnavailable,
    run_sandboxed,
)
from bounty_engine.data import prepare_features
from bounty_engine.errors import EngineError
from bounty_engine.groups import RuleGroup
from bounty_engine.models import sniff_format
from bounty_engine.schema import FeatureSchema

log = logging.getLogger("bounty.submissions")

SAMPLE_ROWS = 200
CHECK_ATTEMPTS = 3
"""How many times the upload-time check is run when the platform, not the pair, fails it."""
CHECK_BACKOFF_SECONDS = (0.5, 2.0)
"""The waits before the second, third, ... run."""


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
        raise Problem(
            429,
            "quota-exceeded",
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
        raise Problem(409, "round-has-no-data", "the round has no data yet")
    return _train_split(store, round_.train_sha)


def public_sample(store: ArtifactStore, round_: Round) -> pd.DataFrame:
    """The first rows of the public train split, as models receive them."""
    return prepare_features(_train_of(store, round_).head(SAMPLE_ROWS), round_schema(round_))


def check_expression(store: ArtifactStore, round_: Round, expression: str) -> ExpressionCheckOut:
    """Whether ``expression`` is a valid group rule for the round, with the error's position if
    not, and the group's size on the public train split if it is."""
    schema = round_schema(round_)
    try:
        group = RuleGroup.parse(expression, schema)
    except EngineError as exc:
        error = ProblemError.model_validate(engine_problem(exc).extra["errors"][0])
        return ExpressionCheckOut(expression=expression, valid=False, error=error)
    train = _train_of(store, round_)
    rows = int(group.mask(prepare_features(train, schema)).sum())
    return ExpressionCheckOut(
        expression=expression,
        valid=True,
        canonical=group.rule.canonical,
        columns=list(group.columns),
        train_rows=rows,
        train_share=rows / len(train) if len(train) else 0.0,
    )


@dataclass(frozen=True)
class CheckedPair:
    """A pair that loaded and ran on the public sample."""

    group_columns: tuple[str, ...]
    model_format: str


SAMPLE_CHECK_SECONDS = 30
"""Most CPU and wall seconds the upload-time check of a pair may take."""

_checks_at_once = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))
"""The upload-time checks that run at once in this process, one child per core: a burst of
uploads then queues here instead of forking dozens of children that share two cores (each
slower, all finishing late, and holding their memory meanwhile)."""


def sample_limits(settings: Settings) -> Limits:
    """The sandbox limits of the upload-time check: the evaluation's, capped shorter."""
    limits = Limits.from_settings(settings)
    return dataclasses.replace(
        limits,
        cpu_seconds=min(limits.cpu_seconds, SAMPLE_CHECK_SECONDS),
        wall_seconds=min(limits.wall_seconds, SAMPLE_CHECK_SECONDS),
    )


def check_pair(
    schema: FeatureSchema,
    sample: pd.DataFrame,
    expression: str | None,
    group_model_path: Path | None,
    model_path: Path,
    *,
    limits: Limits,
) -> CheckedPair:
    """Parse the group rule here, then load and run both models on the public sample in a
    sandboxed child, as a worker would (an uploaded model never runs in the API process);
    422 if any part fails, naming the field and, for expressions, the position. A failure of
    the platform (``SandboxUnavailable``) is tried again ``CHECK_ATTEMPTS`` times in all, then
    answered 503 ``evaluation-unavailable`` with ``Retry-After``."""
    columns: tuple[str, ...] = ()
    if expression is not None:
        try:
            columns = RuleGroup.parse(expression, schema).columns
        except EngineError as exc:
            raise engine_problem(exc, field="group_expression") from exc
    if group_model_path is not None:
        _model_format(group_model_path, "group_model")
    model_format = _model_format(model_path, "model")
    with tempfile.TemporaryDirectory(prefix="bounty-sample-") as tmp:
        features = Path(tmp) / "sample.parquet"
        sample.to_parquet(features)
        pair = PairFiles(model_path, expression, group_model_path)
        try:
            _run_check(pair, schema, features, len(sample), limits)
        except SandboxError as exc:
            message = str(exc)
            raise Problem(
                422,
                exc.code.replace("_", "-"),
                message,
                errors=[{"field": exc.field, "message": message}],
            ) from exc
    return CheckedPair(columns, model_format)


def _run_check(
    pair: PairFiles, schema: FeatureSchema, features: Path, n_rows: int, limits: Limits
) -> None:
    """Run the pair on the sample; SandboxError if it fails, the 503 problem if the platform
    keeps failing to run it."""
    for attempt in range(1, CHECK_ATTEMPTS + 1):
        try:
            with _checks_at_once:
                run_sandboxed(pair, schema, {"sample": features}, {"sample": n_rows}, limits)
        except SandboxUnavailable as exc:
            log.warning(
                "upload check: the platform failed (attempt %d of %d): %s",
                attempt,
                CHECK_ATTEMPTS,
                exc,
            )
            if attempt == CHECK_ATTEMPTS:
                raise evaluation_unavailable(str(exc)) from exc
            time.sleep(CHECK_BACKOFF_SECONDS[min(attempt, len(CHECK_BACKOFF_SECONDS)) - 1])
        else:
            return


def _model_format(path: Path, field: str) -> str:
    """skops or onnx, from the file's content; 422 for pickles and other files."""
    try:
        return sniff_format(path.read_bytes()).value
    except EngineError as exc:
        raise engine_problem(exc, field=field) from exc
