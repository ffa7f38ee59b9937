"""A binary classifier's false-positive and false-negative rates on a set of rows.

The definitions are fairlearn's ``false_positive_rate`` and ``false_negative_rate`` (and
scikit-learn's confusion matrix): of the rows whose truth is negative, the share predicted
positive; of the rows whose truth is positive, the share predicted negative. The positive class
is the label's second class in the schema's order (code 1), as in a cost matrix
``((0, c_fp), (c_fn, 0))``. Counts are kept, not only the rates, so a rate is exact and its
sampling error known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bounty_engine.schema import LabelInfo, Task

POSITIVE = 1
"""The code of the positive class of a binary label."""


def positive_class(label: LabelInfo) -> int | None:
    """The positive class code of a two-class label; None when rates of false positives and
    negatives do not apply (regression, or more than two classes)."""
    binary = label.task is Task.CLASSIFICATION and len(label.classes or []) == 2
    return POSITIVE if binary else None


@dataclass(frozen=True)
class ErrorRates:
    """How often a classifier errs on each true class of some rows."""

    negatives: int
    """Rows whose truth is the negative class."""
    positives: int
    """Rows whose truth is the positive class."""
    false_positives: int
    false_negatives: int

    @property
    def false_positive_rate(self) -> float | None:
        """False positives per true negative; None without true negatives."""
        return self.false_positives / self.negatives if self.negatives else None

    @property
    def false_negative_rate(self) -> float | None:
        """False negatives per true positive; None without true positives."""
        return self.false_negatives / self.positives if self.positives else None

    @classmethod
    def of(
        cls, y: npt.NDArray[np.generic], pred: npt.NDArray[np.generic], pos_label: int
    ) -> ErrorRates:
        """The rates of predictions ``pred`` against the truth ``y`` (class codes)."""
        truth = np.asarray(y) == pos_label
        said = np.asarray(pred) == pos_label
        positives = int(np.count_nonzero(truth))
        return cls(
            negatives=len(truth) - positives,
            positives=positives,
            false_positives=int(np.count_nonzero(said & ~truth)),
            false_negatives=int(np.count_nonzero(truth & ~said)),
        )
