"""Seeded synthetic data with planted groups on which a model of the whole population fails.

Features: ``x0 .. x{n_numeric-1}`` standard normal, ``c0 .. c{n_categorical-1}`` uniform over the
categories ``"a" .. "e"``. Outside the planted groups a global rule holds:

* classification: ``y = 1[x0 + 0.5*x1 > 0]``, each label flipped with probability 5%;
* regression: ``y = x0 + 0.5*x1 + N(0, 0.25^2)``.

Inside planted group ``i`` the relation is reversed (``y = 1 - rule``, or ``y = -(x0 + 0.5*x1) +
noise``), so a model fit on everyone follows the global rule and is badly wrong there. Group ``i``
is ``c0 == <category i mod 5> and x_j > t`` (groups 0-4) or ``... and x_j < -t`` (groups 5-9),
with ``j`` fixed per category (``x2``, ``x3``, ... when there are more than two numeric columns)
and ``t`` set for the group's share, so groups are disjoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Final

import numpy as np
import pandas as pd

from bounty_engine.schema import Task

CATEGORIES: Final = ("a", "b", "c", "d", "e")
MAX_PLANTED: Final = 2 * len(CATEGORIES)
LABEL: Final = "y"
GROUP_SHARES: Final = (0.05, 0.04, 0.03)
"""Share of all rows in planted group ``i`` is ``GROUP_SHARES[i % 3]`` (before rounding)."""
FLIP_NOISE: Final = 0.05
REGRESSION_NOISE: Final = 0.25
_WEIGHTS: Final = (1.0, 0.5)  # global rule: x0 + 0.5 * x1


@dataclass(frozen=True)
class PlantedGroup:
    """A planted group: its rule in the group expression language and its expected share."""

    expression: str
    share: float


@dataclass(frozen=True)
class _Condition:
    """The structured form of a planted group's rule: ``category_column == category and
    numeric_column > threshold`` (or ``< -threshold`` when not ``above``)."""

    category_column: str
    category: str
    numeric_column: str
    above: bool
    threshold: float

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        numbers = frame[self.numeric_column].to_numpy(dtype="float64")
        side = numbers > self.threshold if self.above else numbers < -self.threshold
        return np.asarray(frame[self.category_column] == self.category) & side


@dataclass(frozen=True)
class SyntheticData:
    """A synthetic table (features and the label column ``label``) with its planted groups."""

    frame: pd.DataFrame
    label: str
    planted: list[PlantedGroup]
    task: Task
    _conditions: tuple[_Condition, ...] = field(repr=False)

    def planted_masks(self) -> list[np.ndarray]:
        """One boolean row mask per planted group, in ``planted`` order."""
        return [condition.mask(self.frame) for condition in self._conditions]


def make_synthetic(
    n_rows: int,
    *,
    task: Task = Task.CLASSIFICATION,
    n_numeric: int = 4,
    n_categorical: int = 2,
    n_planted: int = 3,
    seed: int = 0,
) -> SyntheticData:
    """Generate ``n_rows`` rows with ``n_planted`` disjoint planted groups (see module docs).

    Fully vectorized; the same arguments give the same data on every machine. Needs
    ``n_numeric >= 2``, ``0 <= n_planted <= 10`` and ``n_categorical >= 1`` if any group is
    planted. Classification labels are int 0/1, regression labels float.
    """
    if n_rows < 1 or n_numeric < 2 or n_categorical < 0 or not 0 <= n_planted <= MAX_PLANTED:
        raise ValueError(
            f"need n_rows >= 1, n_numeric >= 2, n_categorical >= 0 and 0 <= n_planted <= "
            f"{MAX_PLANTED}; got {n_rows}, {n_numeric}, {n_categorical}, {n_planted}"
        )
    if n_planted and not n_categorical:
        raise ValueError("planted groups need at least one categorical column")
    rng = np.random.default_rng(seed)
    numeric = rng.standard_normal((n_rows, n_numeric))
    codes = rng.integers(0, len(CATEGORIES), size=(n_rows, n_categorical), dtype=np.int8)
    columns: dict[str, object] = {f"x{j}": numeric[:, j] for j in range(n_numeric)}
    for k in range(n_categorical):
        columns[f"c{k}"] = pd.Categorical.from_codes(codes[:, k], pd.Index(CATEGORIES)).astype(
            "str"
        )
    frame = pd.DataFrame(columns)

    conditions = tuple(_condition(i, n_numeric) for i in range(n_planted))
    inside = np.zeros(n_rows, dtype=bool)
    for condition in conditions:
        inside |= condition.mask(frame)
    frame[LABEL] = _labels(rng, _global_score(numeric), inside, task)
    planted = [_planted_group(c) for c in conditions]
    return SyntheticData(frame, LABEL, planted, task, conditions)


def _condition(index: int, n_numeric: int) -> _Condition:
    slot = index % len(CATEGORIES)
    share = GROUP_SHARES[index % len(GROUP_SHARES)]
    # P(c0 == category) = 1/5, so the numeric side must hold with probability 5 * share
    tail = share * len(CATEGORIES)
    threshold = round(NormalDist().inv_cdf(1.0 - tail), 3)
    return _Condition(
        category_column="c0",
        category=CATEGORIES[slot],
        numeric_column=f"x{_group_feature(slot, n_numeric)}",
        above=index < len(CATEGORIES),
        threshold=threshold,
    )


def _group_feature(slot: int, n_numeric: int) -> int:
    """Index of the numeric column in group rules of category ``slot``: not x0 or x1 (the
    global rule's inputs) when there are other columns, so group membership is independent
    of the global rule."""
    if n_numeric > 2:
        return 2 + slot % (n_numeric - 2)
    return slot % 2


def _planted_group(condition: _Condition) -> PlantedGroup:
    bound = (
        f"{condition.numeric_column} > {condition.threshold}"
        if condition.above
        else f"{condition.numeric_column} < {-condition.threshold}"
    )
    expression = f'{condition.category_column} == "{condition.category}" and {bound}'
    share = (1.0 - NormalDist().cdf(condition.threshold)) / len(CATEGORIES)
    return PlantedGroup(expression=expression, share=share)


def _global_score(numeric: np.ndarray) -> np.ndarray:
    return np.asarray(_WEIGHTS[0] * numeric[:, 0] + _WEIGHTS[1] * numeric[:, 1])


def _labels(
    rng: np.random.Generator, score: np.ndarray, inside: np.ndarray, task: Task
) -> np.ndarray:
    if task is Task.REGRESSION:
        noise = rng.normal(0.0, REGRESSION_NOISE, size=score.shape)
        return np.asarray(np.where(inside, -score, score) + noise)
    rule = score > 0
    flip = rng.random(score.shape) < FLIP_NOISE
    labels: np.ndarray = (rule ^ inside ^ flip).astype(np.int64)
    return labels


def base_predictions(data: SyntheticData) -> np.ndarray:
    """What the global rule predicts for every row, ignoring the planted groups.

    A stand-in for a base model fit on everyone, free to compute at millions of rows.
    """
    numeric = data.frame[["x0", "x1"]].to_numpy(dtype="float64")
    score = _global_score(numeric)
    if data.task is Task.REGRESSION:
        return score
    return (score > 0).astype(np.int64)
