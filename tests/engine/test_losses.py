"""Per-row losses."""

from __future__ import annotations

import numpy as np
import pytest

from bounty_engine.errors import EngineError
from bounty_engine.losses import Loss, LossKind, zero_one_costs
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
    assert Loss(LossKind.COST, costs=((0, 3), (1, 0))).task is Task.CLASSIFICATION
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


def test_a_cost_matrix_charges_each_row_by_its_truth_and_prediction() -> None:
    # Truth 0 predicted 1 (a false positive) costs 3, truth 1 predicted 0 costs 1.
    loss = Loss(LossKind.COST, costs=((0, 3), (1, 0)))
    out = loss(np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1]))
    assert out.dtype == np.float64
    assert out.tolist() == [0.0, 3.0, 1.0, 0.0]
    assert loss.row_bound == 3.0
    assert Loss().row_bound == 1.0
    assert Loss(LossKind.SQUARED, clip=4.0).row_bound == 4.0
    assert Loss(LossKind.SQUARED).row_bound is None


def test_the_zero_one_cost_matrix_is_the_zero_one_loss() -> None:
    rng = np.random.default_rng(3)
    y, pred = rng.integers(0, 3, 500), rng.integers(0, 3, 500)
    assert zero_one_costs(3) == ((0, 1, 1), (1, 0, 1), (1, 1, 0))
    costs = Loss(LossKind.COST, costs=zero_one_costs(3))
    assert costs(pred, y).tolist() == Loss()(pred, y).tolist()


@pytest.mark.parametrize(
    ("costs", "message"),
    [
        (None, "needs its cost matrix"),
        (((0, 1),), "square"),
        (((0, 1, 1), (1, 0, 1)), "square"),
        (((0,),), "square"),
        (((0, 1.5), (1, 0)), "whole numbers"),
        (((0, -1), (1, 0)), "whole numbers"),
        (((0, True), (1, 0)), "whole numbers"),
        (((0, 10**7), (1, 0)), "whole numbers"),
        (((0, 0), (0, 0)), "some wrong prediction"),
        (((5, 0), (0, 5)), "some wrong prediction"),
    ],
)
def test_bad_cost_matrices_are_refused(costs: object, message: str) -> None:
    with pytest.raises(EngineError, match=message):
        Loss(LossKind.COST, costs=costs)  # type: ignore[arg-type]


def test_costs_belong_to_the_cost_loss_and_its_class_codes() -> None:
    with pytest.raises(EngineError, match="only the cost-weighted loss"):
        Loss(LossKind.ZERO_ONE, costs=((0, 1), (1, 0)))
    with pytest.raises(EngineError, match="takes no clip"):
        Loss(LossKind.COST, clip=1.0, costs=((0, 1), (1, 0)))
    with pytest.raises(EngineError, match="below the cost matrix's 2 classes"):
        Loss(LossKind.COST, costs=((0, 1), (1, 0)))(np.array([0, 2]), np.array([0, 1]))
