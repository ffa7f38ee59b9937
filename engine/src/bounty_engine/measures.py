"""A model's mean loss on some rows, with its false-positive and false-negative rates: what the
rule check, the population figures and the reports show beside a group."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bounty_engine.error_rates import ErrorRates
from bounty_engine.losses import Loss

Array = npt.NDArray[np.generic]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Measure:
    """A model's mean loss on some rows, with its error rates on two-class rounds."""

    rows: int
    loss: float | None
    rates: ErrorRates | None = None


def measure(
    loss: Loss, y: Array, pred: Array, mask: Mask | None = None, pos_label: int | None = None
) -> Measure:
    """The mean loss (and error rates, given ``pos_label``) of ``pred`` on ``mask``'s rows."""
    if mask is not None:
        y, pred = y[mask], pred[mask]
    rows = len(y)
    mean = float(loss(pred, y).mean()) if rows else None
    rates = ErrorRates.of(y, pred, pos_label) if pos_label is not None else None
    return Measure(rows, mean, rates)
