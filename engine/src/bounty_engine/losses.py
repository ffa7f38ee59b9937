"""Per-row losses, vectorized. Classification predictions and labels are integer class codes."""

from __future__ import annotations

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
    SQUARED = "squared"
    ABSOLUTE = "absolute"


@dataclass(frozen=True)
class Loss:
    """A per-row loss; ``clip`` bounds squared/absolute error from above (``None``: unbounded)."""

    kind: LossKind = LossKind.ZERO_ONE
    clip: float | None = None

    def __post_init__(self) -> None:
        if self.clip is not None and not (np.isfinite(self.clip) and self.clip > 0):
            raise EngineError(f"loss clip must be a positive finite number, got {self.clip}")
        if self.kind is LossKind.ZERO_ONE and self.clip is not None:
            raise EngineError("0-1 loss is already bounded; it takes no clip")

    @property
    def task(self) -> Task:
        """The task this loss applies to."""
        return Task.CLASSIFICATION if self.kind is LossKind.ZERO_ONE else Task.REGRESSION

    def __call__(self, pred: npt.NDArray[np.generic], y: npt.NDArray[np.generic]) -> FloatArray:
        """Loss of each prediction against its label, as float64."""
        if self.kind is LossKind.ZERO_ONE:
            unequal: npt.NDArray[np.bool_] = np.not_equal(pred, y)
            return unequal.astype(np.float64)
        with np.errstate(over="ignore"):  # an overflow gives inf, which callers refuse
            diff = pred.astype(np.float64) - y.astype(np.float64)
            out = np.square(diff) if self.kind is LossKind.SQUARED else np.abs(diff)
        if self.clip is not None:
            np.minimum(out, self.clip, out=out)
        return out
