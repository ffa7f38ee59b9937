"""Statistically valid acceptance: is a pair's improvement on its group credible on fresh data?

The threshold rule accepts any exact improvement of at least alpha on the holdout, which on a
small holdout with many submissions accepts noise (docs/acceptance.md, "Why a test"). The
significance rule adds a one-sided test of "h is no better than the current model on g" against
the paired per-row loss differences ``d = loss(current) - loss(h)`` on the group's holdout rows:

* 0-1 loss: the exact sign test (McNemar's test) on the rows where exactly one of the two is
  right; under the null, each such row favours h with probability at most 1/2.
* squared and absolute loss: the paired one-sided Student t-test on ``d`` (asymptotic; a clipped
  loss keeps it well-behaved).

The round's error budget ``1 - confidence`` is spent over its submissions in decision order:
the k-th tested pair is tested at level ``delta * N / ((N + k - 1) * (N + k))`` with N the
round's planned number of submissions. These levels sum to exactly delta over any number of
submissions, so the chance that a round accepts any pair that does not truly improve its group
is at most delta (under the disclosure limits of docs/acceptance.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from bounty_engine.errors import EngineError
from bounty_engine.losses import LossKind

FloatArray = npt.NDArray[np.float64]

Z_95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""


class AcceptanceTest(StrEnum):
    """How a round decides that an improvement is enough."""

    SIGNIFICANCE = "significance"
    THRESHOLD = "threshold"


class PairedMethod(StrEnum):
    """The paired test used for a loss."""

    SIGN = "sign"
    T = "t"


@dataclass(frozen=True)
class Spending:
    """The round's error budget ``1 - confidence`` spread over its submissions.

    ``planned`` (N) is how many submissions the organizer expects: the first N are each tested
    at about ``delta / N`` to ``delta / (4 N)``; later ones at quickly smaller levels, so the
    total never exceeds delta however long the round runs.
    """

    confidence: float = 0.95
    planned: int = 1000

    def __post_init__(self) -> None:
        if not 0 < self.confidence < 1:
            raise EngineError("confidence must be strictly between 0 and 1")
        if self.planned < 1:
            raise EngineError("the planned number of submissions must be at least 1")

    @property
    def delta(self) -> float:
        """The round's whole error budget."""
        return 1.0 - self.confidence

    def level(self, index: int) -> float:
        """The significance level of the ``index``-th tested pair (1-based)."""
        if index < 1:
            raise EngineError("test indices start at 1")
        n = self.planned
        return self.delta * n / ((n + index - 1) * (n + index))


@dataclass(frozen=True)
class SignificanceResult:
    """One pair's test on the decision split."""

    method: PairedMethod
    index: int
    level: float
    p_value: float
    lower_bound: float
    """A lower confidence bound, at ``level``, on the mean loss reduction over the group's rows
    (the group loss before minus after, per group row)."""

    @property
    def significant(self) -> bool:
        """Whether the improvement is credible at this pair's level."""
        return self.p_value <= self.level


def method_for(kind: LossKind) -> PairedMethod:
    """The paired test used for a loss kind."""
    return PairedMethod.SIGN if kind is LossKind.ZERO_ONE else PairedMethod.T


def paired_test(
    kind: LossKind, before: FloatArray, after: FloatArray, *, index: int, level: float
) -> SignificanceResult:
    """Test that ``after`` (h's per-row losses on the group) is lower than ``before`` (the
    current model's) at ``level``; deterministic for the same arrays."""
    method = method_for(kind)
    if method is PairedMethod.SIGN:
        p_value, lower = _sign_test(before, after, level)
    else:
        p_value, lower = _t_test(before - after, level)
    return SignificanceResult(method, index, level, p_value, lower)


def _sign_test(before: FloatArray, after: FloatArray, level: float) -> tuple[float, float]:
    n_group = len(before)
    wins = int(np.count_nonzero(before > after))  # rows h gets right and the model wrong
    discordant = wins + int(np.count_nonzero(before < after))
    if discordant == 0:
        return 1.0, 0.0
    from scipy import stats  # noqa: PLC0415 (scipy.stats takes a second to import: when used)

    p_value = float(stats.binom.sf(wins - 1, discordant, 0.5))
    # Clopper-Pearson lower bound on the chance that a discordant row favours h.
    share = float(stats.beta.ppf(level, wins, discordant - wins + 1)) if wins else 0.0
    return p_value, discordant / n_group * (2 * share - 1)


def _t_test(diff: FloatArray, level: float) -> tuple[float, float]:
    n_group = len(diff)
    mean = float(diff.mean()) if n_group else 0.0
    if n_group < 2:
        return 1.0, -math.inf
    spread = float(diff.std(ddof=1))
    if spread == 0:  # every row improves by the same amount
        return (0.0 if mean > 0 else 1.0), mean
    error = spread / math.sqrt(n_group)
    from scipy import stats  # noqa: PLC0415 (as above)

    p_value = float(stats.t.sf(mean / error, n_group - 1))
    return p_value, mean - float(stats.t.isf(level, n_group - 1)) * error
