"""Per-row losses."""

from __future__ import annotations

import numpy as np
import pytest

from bounty_engine.errors import EngineError
from bounty_engine.losses import Loss, LossKind
from bounty_engine.schema import Task


def test_zero_one_counts_mismatched_codes() -> None:
    out = Loss()(np.array([0, 1, 2, 1]), np.array([0, 2, 2, 0]))
    assert out.dtype == np.float64
    assert out.tolist() == [0.0, 1.0, 0.0, 1.0]


def test_squared_and_absolute_with_clip() -> None:
    pred, y = np.array([0.0, 1.0, 5.0]), np.array([0.5, 3.0, -1.0])
    assert Loss(LossKind.SQUARED)(pred, y).tolist() == [0.25, 4.0, 36.0]
    assert Loss(LossKind.ABSOLUTE)(pred, y).tolist() == [0.5, 2.0, 6.0]
    assert Loss(LossKind.SQUARED, clip=9.0)(pred, y).tolist() == [0.25, 4.0, 9.0]
    assert Loss(LossKind.ABSOLUTE, clip=1.0)(pred, y).tolist() == [0.5, 1.0, 1.0]


def test_task_of_each_loss() -> None:
    assert Loss().task is Task.CLASSIFICATION
    assert Loss(LossKind.ABSOLUTE).task is Task.REGRESSION


@pytest.mark.parametrize(
    ("kind", "clip", "message"),
    [
        (LossKind.SQUARED, 0.0, "positive finite"),
        (LossKind.SQUARED, float("inf"), "positive finite"),
        (LossKind.ABSOLUTE, -1.0, "positive finite"),
        (LossKind.ZERO_ONE, 1.0, "takes no clip"),
    ],
)
def test_bad_clips_are_refused(kind: LossKind, clip: float, message: str) -> None:
    with pytest.raises(EngineError, match=message):
        Loss(kind, clip=clip)
