"""False-positive and false-negative rates (``bounty_engine.error_rates``), checked against
fairlearn's ``MetricFrame`` with its ``false_positive_rate`` and ``false_negative_rate``: the
definitions the issue names."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from fairlearn.metrics import MetricFrame, false_negative_rate, false_positive_rate
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bounty_engine.decision import BountyEvaluator, PairOutput
from bounty_engine.error_rates import ErrorRates, positive_class
from bounty_engine.errors import EngineError
from bounty_engine.losses import Loss, LossKind
from bounty_engine.schema import LabelInfo, Task

FAIRLEARN = {
    "fpr": partial(false_positive_rate, pos_label=1),
    "fnr": partial(false_negative_rate, pos_label=1),
}


def by_group(y: np.ndarray, pred: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """fairlearn's rates on the rows of ``mask`` (the group as a sensitive feature)."""
    frame = MetricFrame(
        metrics=FAIRLEARN,
        y_true=y,
        y_pred=pred,
        sensitive_features=mask,
    )
    group = frame.by_group.loc[True]
    return float(group["fpr"]), float(group["fnr"])


def as_fairlearn(rate: float | None) -> float:
    # fairlearn normalizes an empty row of the confusion matrix to 0; ours says "no such rows".
    return 0.0 if rate is None else rate


binary = st.integers(min_value=5, max_value=60).flatmap(
    lambda n: st.tuples(
        *(arrays(np.int64, n, elements=st.integers(0, 1)) for _ in range(3)),
        arrays(np.bool_, n),
    )
)


@settings(max_examples=60, deadline=None)
@given(binary)
def test_the_rates_are_fairlearns(case: tuple[np.ndarray, ...]) -> None:
    y, pred, _, mask = case
    mask[0] = True  # the group is never empty
    rates = ErrorRates.of(y[mask], pred[mask], pos_label=1)
    fpr, fnr = by_group(y, pred, mask)
    assert as_fairlearn(rates.false_positive_rate) == pytest.approx(fpr)
    assert as_fairlearn(rates.false_negative_rate) == pytest.approx(fnr)
    assert rates.negatives + rates.positives == int(mask.sum())


@settings(max_examples=40, deadline=None)
@given(binary, st.sampled_from([LossKind.ZERO_ONE, LossKind.COST]))
def test_a_verdict_counts_the_groups_errors_before_and_after(
    case: tuple[np.ndarray, ...], kind: LossKind
) -> None:
    y, base, h_everywhere, mask = case
    mask[0] = True
    costs = ((0, 3), (1, 0)) if kind is LossKind.COST else None
    evaluator = BountyEvaluator(Loss(kind, costs=costs), pos_label=1).fit(
        {"holdout": y}, {"holdout": base}
    )
    h = h_everywhere[mask]
    decision = evaluator.decide("1", {"holdout": PairOutput(mask, h)})
    stats = decision.stats["holdout"]
    assert stats.rates_before is not None
    assert stats.rates_after is not None
    before, after = by_group(y, base, mask), by_group(y, np.where(mask, h_everywhere, base), mask)
    assert as_fairlearn(stats.rates_before.false_positive_rate) == pytest.approx(before[0])
    assert as_fairlearn(stats.rates_before.false_negative_rate) == pytest.approx(before[1])
    assert as_fairlearn(stats.rates_after.false_positive_rate) == pytest.approx(after[0])
    assert as_fairlearn(stats.rates_after.false_negative_rate) == pytest.approx(after[1])


def test_a_class_absent_from_the_group_has_no_rate() -> None:
    rates = ErrorRates.of(np.array([1, 1, 1]), np.array([0, 1, 1]), pos_label=1)
    assert rates.false_positive_rate is None
    assert rates.false_negative_rate == pytest.approx(1 / 3)


def test_without_a_positive_class_there_are_no_rates() -> None:
    y = np.array([0, 1, 2, 1])
    evaluator = BountyEvaluator(Loss()).fit({"holdout": y}, {"holdout": y})
    stats = evaluator.decide("1", {"holdout": PairOutput(y > 0, y[y > 0])}).stats["holdout"]
    assert stats.rates_before is None
    assert stats.rates_after is None


@pytest.mark.parametrize(
    ("label", "positive"),
    [
        (LabelInfo(name="y", task=Task.CLASSIFICATION, classes=["<=50K", ">50K"]), 1),
        (LabelInfo(name="y", task=Task.CLASSIFICATION, classes=["a", "b", "c"]), None),
        (LabelInfo(name="y", task=Task.REGRESSION), None),
    ],
)
def test_only_two_class_labels_have_a_positive_class(
    label: LabelInfo, positive: int | None
) -> None:
    assert positive_class(label) == positive


def test_a_regression_round_refuses_a_positive_class() -> None:
    with pytest.raises(EngineError, match="classification rounds only"):
        BountyEvaluator(Loss(LossKind.SQUARED), pos_label=1).fit(
            {"holdout": np.zeros(3)}, {"holdout": np.zeros(3)}
        )
