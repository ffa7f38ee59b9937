"""Per-row losses, vectorized. Classification predictions and labels are integer class codes.

A cost-weighted loss (``LossKind.COST``) charges ``costs[i][j]`` for predicting class ``j`` when
the truth is class ``i`` (codes in the schema's class order): ``((0, 3), (1, 0))`` makes a false
positive cost 3 and a false negative 1. Costs are whole numbers, so sums stay exact; the 0-1
loss is the matrix with 1 off the diagonal. It is still a per-row loss, so the acceptance and
repair rules (docs/acceptance.md) apply unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from bounty_engine.errors import EngineError
from bounty_engine.schema import Task

FloatArray = npt.NDArray[np.float64]


class LossKind(StrEnum):
    """The loss a round is scored with."""

    ZERO_ONE = "zero_one"
    COST = "cost"
    SQUARED = "squared"
    ABSOLUTE = "absolute"


MAX_COST = 1_000_000
"""The largest cost a matrix may hold (sums of many rows stay exact integers in float64)."""

CostMatrix = tuple[tuple[int, ...], ...]


def check_costs(costs: CostMatrix) -> None:
    """Raise EngineError unless ``costs`` is a square matrix of at least two classes, of whole
    numbers from 0 to ``MAX_COST``, with some cost for a wrong prediction."""
    n = len(costs)
    if n < 2 or any(len(row) != n for row in costs):
        raise EngineError(f"a cost matrix is square, one row and column per class; got {costs}")
    for row in costs:
        for cost in row:
            if isinstance(cost, bool) or not isinstance(cost, int) or not 0 <= cost <= MAX_COST:
                raise EngineError(f"costs are whole numbers from 0 to {MAX_COST}; got {cost!r}")
    if not any(costs[i][j] for i in range(n) for j in range(n) if i != j):
        raise EngineError("a cost matrix must charge something for some wrong prediction")


def cost_matrix(rows: Sequence[Sequence[int]] | None) -> CostMatrix | None:
    """A cost matrix as ``Loss`` takes it, from the lists JSON gives (None stays None)."""
    return None if rows is None else tuple(tuple(row) for row in rows)


def zero_one_costs(n_classes: int) -> CostMatrix:
    """The cost matrix of the 0-1 loss: 1 for every wrong prediction."""
    return tuple(tuple(int(i != j) for j in range(n_classes)) for i in range(n_classes))


@dataclass(frozen=True)
class Loss:
    """A per-row loss; ``clip`` bounds squared/absolute error from above (``None``: unbounded);
    ``costs`` is the cost matrix of a cost-weighted loss (see the module's docstring)."""

    kind: LossKind = LossKind.ZERO_ONE
    clip: float | None = None
    costs: CostMatrix | None = None

    def __post_init__(self) -> None:
        if self.clip is not None and not (np.isfinite(self.clip) and self.clip > 0):
            raise EngineError(f"loss clip must be a positive finite number, got {self.clip}")
        if self.task is Task.CLASSIFICATION and self.clip is not None:
            raise EngineError("a classification loss is already bounded; it takes no clip")
        if self.kind is LossKind.COST:
            if self.costs is None:
                raise EngineError("a cost-weighted loss needs its cost matrix")
            check_costs(self.costs)
        elif self.costs is not None:
            raise EngineError("only the cost-weighted loss takes a cost matrix")

    @property
    def task(self) -> Task:
        """The task this loss applies to."""
        if self.kind in (LossKind.ZERO_ONE, LossKind.COST):
            return Task.CLASSIFICATION
        return Task.REGRESSION

    @property
    def row_bound(self) -> float | None:
        """The largest loss a single row can have (``None``: unbounded)."""
        if self.kind is LossKind.ZERO_ONE:
            return 1.0
        if self.costs is not None:
            return float(max(max(row) for row in self.costs))
        return self.clip

    def __call__(self, pred: npt.NDArray[np.generic], y: npt.NDArray[np.generic]) -> FloatArray:
        """Loss of each prediction against its label, as float64."""
        if self.kind is LossKind.ZERO_ONE:
            unequal: npt.NDArray[np.bool_] = np.not_equal(pred, y)
            return unequal.astype(np.float64)
        if self.costs is not None:
            table = np.asarray(self.costs, dtype=np.float64)
            n = len(table)
            codes_y, codes_pred = np.asarray(y), np.asarray(pred)
            lowest = min(codes_y.min(initial=0), codes_pred.min(initial=0))
            if lowest < 0 or max(codes_y.max(initial=0), codes_pred.max(initial=0)) >= n:
                raise EngineError(f"class codes must be below the cost matrix's {n} classes")
            cost: FloatArray = table[codes_y, codes_pred]
            return cost
        with np.errstate(over="ignore"):  # an overflow gives inf, which callers refuse
            diff = pred.astype(np.float64) - y.astype(np.float64)
            out = np.square(diff) if self.kind is LossKind.SQUARED else np.abs(diff)
        if self.clip is not None:
            np.minimum(out, self.clip, out=out)
        return out
