"""The upload-time check of a pair: the group rule parsed, both models loaded and run on the
public sample in a sandboxed child, before the submission is queued (docs/uploads.md)."""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from app.core.errors import (
    InvalidModel,
    engine_problem,
    engine_problem_type,
    evaluation_unavailable,
)
from app.core.settings import Settings
from app.evaluation.sandbox import (
    Limits,
    PairFiles,
    SandboxError,
    SandboxUnavailable,
    run_sandboxed,
)
from bounty_engine.errors import EngineError
from bounty_engine.groups import RuleGroup
from bounty_engine.models import sniff_format
from bounty_engine.schema import FeatureSchema

log = logging.getLogger("bounty.evaluation")

CHECK_ATTEMPTS = 3
"""How many times the upload-time check is run when the platform, not the pair, fails it."""
CHECK_BACKOFF_SECONDS = (0.5, 2.0)
"""The waits before the second, third, ... run."""


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
            # The child reports the engine's error code (invalid-model, invalid-predictions, ...).
            kind = engine_problem_type(exc.code, default=InvalidModel)
            raise kind(message, errors=[{"field": exc.field, "message": message}]) from exc
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
