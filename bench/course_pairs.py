"""The course replay's data and submissions (``bench.course``): synthetic splits with ten
planted groups, and a seeded plan of pairs of every kind a course produces.

Kinds, by the outcome each is built for (the report compares it with the verdict):

* ``fix``: h fit on one cell of a planted group (the group cut by ``c1``), where the base model
  is wrong on ~95% of rows: accepted under the significance rule. Each cell once, so ``count``
  fixes are ``count`` distinct improvements (up to 50: ten groups, five ``c1`` values).
* ``no_improvement``: a shallow tree that sees only ``x0`` and ``x1`` (the global rule's
  columns), on a rule over ``x0``, ``x1`` and ``c1``: no better than the logistic base model
  there (a few come out below the threshold or not significant, as in a real course).
* ``too_small``: a rule selecting a handful of holdout rows, fewer than ``min_group_rows``.
* ``invalid``: passes the upload check but fails on the holdout: a rule (or a group model) that
  is empty on the public sample and selects the holdout's outlier rows (``x0`` near 50, as in
  the soak's data), with an h that answers a class the label does not have, or two columns.
* ``refused``: refused at upload with 422: a corrupt or non-model file, an h of the wrong shape
  on a group the sample has rows of, a rule with a syntax error or an unknown column.

A fifth of the fixes and of the no-improvement pairs give g as a group model. Every model file
is distinct (trees fit on a bootstrap of their rows with their own seed), as each team's files
would be.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Literal, get_args

import httpx
import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

from bounty_engine.baseline import ordinal_features
from bounty_engine.data import label_values, prepare_features
from bounty_engine.datasets.synthetic import CATEGORIES, make_synthetic
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model
from bounty_engine.schema import FeatureSchema

Kind = Literal["fix", "no_improvement", "too_small", "invalid", "refused"]
KINDS: tuple[Kind, ...] = get_args(Kind)
SPLITS = ("train", "holdout", "test")
FRACTIONS = (0.6, 0.2, 0.2)
N_PLANTED = 10
OUTLIER_X0 = 50.0
N_OUTLIERS = 4
BOGUS_CLASS = 7  # not a class of the label
IMPROVABLE_EVERY = 200
SHARES: dict[Kind, float] = {"too_small": 0.10, "invalid": 0.03, "refused": 0.05}
GROUP_MODEL_SHARE = 0.2
BROAD_COLUMNS = ("x0", "x1")  # planted groups are on c0 with x2/x3: these never single them out


@dataclass(frozen=True)
class Planned:
    """One submission to send: what it was built to be, and its multipart body."""

    kind: Kind
    group_kind: Literal["rule", "model"]
    rule: str | None
    body: bytes
    content_type: str


def write_splits(folder: Path, rows: int, seed: int) -> tuple[dict[str, Path], list[str]]:
    """Synthetic train/holdout/test CSV files, the holdout and test with ``N_OUTLIERS`` rows
    of ``x0`` far beyond any train row; (paths by split, the planted rules)."""
    data = make_synthetic(rows, n_planted=N_PLANTED, seed=seed)
    order = np.random.default_rng(seed).permutation(rows)
    cut = np.cumsum([int(f * rows) for f in FRACTIONS[:2]])
    paths = {}
    for name, index in zip(SPLITS, np.split(order, cut), strict=True):
        frame = data.frame.iloc[index].reset_index(drop=True)
        if name != "train":
            frame.loc[: N_OUTLIERS - 1, "x0"] = OUTLIER_X0 + np.arange(N_OUTLIERS)
        paths[name] = folder / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths, [g.expression for g in data.planted]


def counts(n: int) -> dict[Kind, int]:
    """How many submissions of each kind among ``n``: one fix per ``IMPROVABLE_EVERY``
    (at least one), ``SHARES`` of the others, the rest no improvement."""
    made: dict[Kind, int] = {"fix": min(5 * N_PLANTED, max(1, round(n / IMPROVABLE_EVERY)))}
    made |= {kind: round(share * n) for kind, share in SHARES.items()}
    made["no_improvement"] = n - sum(made.values())
    if made["no_improvement"] < 0:
        raise ValueError(f"{n} submissions are too few for the plan's shares")
    return {kind: made[kind] for kind in KINDS}


@dataclass(frozen=True)
class Builder:
    """Fits and encodes pairs on the public train split."""

    features: pd.DataFrame
    labels: npt.NDArray[np.int64]
    schema: FeatureSchema
    holdout_rows: int
    rng: random.Random

    @classmethod
    def on(
        cls, train: pd.DataFrame, schema: FeatureSchema, holdout_rows: int, seed: int
    ) -> Builder:
        """A builder for ``train`` (features and label) with ``schema``."""
        labels = np.asarray(label_values(train, schema), dtype=np.int64)
        return cls(
            prepare_features(train, schema), labels, schema, holdout_rows, random.Random(seed)
        )

    def mask(self, rule: str) -> npt.NDArray[np.bool_]:
        """The rule's rows of the train split."""
        return np.asarray(RuleGroup.parse(rule, self.schema).mask(self.features), dtype=np.bool_)

    def tree(
        self,
        rows: npt.NDArray[np.bool_],
        target: npt.NDArray[np.int64],
        depth: int,
        columns: Sequence[str] | None = None,
    ) -> bytes:
        """A tree fit on a bootstrap of ``rows`` (all rows if fewer than two), seeing
        ``columns`` only if given; its skops bytes."""
        index = np.flatnonzero(rows) if rows.sum() >= 2 else np.arange(len(rows))
        seed = self.rng.randrange(2**31)
        sample = np.random.default_rng(seed).choice(index, size=len(index))
        encode = (
            ordinal_features(self.schema)
            if columns is None
            else ColumnTransformer([("keep", "passthrough", list(columns))])
        )
        tree = DecisionTreeClassifier(max_depth=depth, random_state=seed)
        model = Pipeline([("features", encode), ("tree", tree)])
        model.fit(self.features.iloc[sample], target[sample])
        return dump_sklearn_model(model)

    def group_model(self, rows: npt.NDArray[np.bool_]) -> bytes:
        """g as a 0/1 tree of ``rows`` on the train split."""
        return self.tree(np.ones(len(rows), dtype=np.bool_), rows.astype(np.int64), depth=8)

    def planned(
        self, kind: Kind, h: bytes, rule: str | None = None, g: bytes | None = None
    ) -> Planned:
        """The submission as a multipart body."""
        files = {"model": ("h.skops", h)}
        if g is not None:
            files["group_model"] = ("g.skops", g)
        data = {"group_expression": rule} if rule is not None else {}
        request = httpx.Request("POST", "http://127.0.0.1/", data=data, files=files)
        group_kind: Literal["rule", "model"] = "model" if g is not None else "rule"
        return Planned(kind, group_kind, rule, request.read(), request.headers["Content-Type"])

    # --- the kinds -------------------------------------------------------------------------

    def fix(self, rule: str) -> Planned:
        """h fit on the rule's rows; g as the rule or, sometimes, a tree of its rows."""
        rows = self.mask(rule)
        h = self.tree(rows, self.labels, depth=self.rng.randint(3, 5))
        if self.rng.random() < GROUP_MODEL_SHARE:
            return self.planned("fix", h, g=self.group_model(rows))
        return self.planned("fix", h, rule)

    def broad_rule(self) -> str:
        """A rule on x0 or x1 (and maybe c1) with at least ~2% of the rows."""
        column = self.rng.choice(BROAD_COLUMNS)
        rule = f"{column} {self.rng.choice('<>')} {self.rng.uniform(-1.2, 1.2):.2f}"
        if self.rng.random() < 0.4:
            rule += f' and c1 == "{self.rng.choice(CATEGORIES)}"'
        return rule

    def no_improvement(self) -> Planned:
        """A shallow tree on x0 and x1 for a broad rule."""
        rule = self.broad_rule()
        rows = self.mask(rule)
        h = self.tree(rows, self.labels, self.rng.randint(1, 3), BROAD_COLUMNS)
        if self.rng.random() < GROUP_MODEL_SHARE:
            return self.planned("no_improvement", h, g=self.group_model(rows))
        return self.planned("no_improvement", h, rule)

    def too_small(self) -> Planned:
        """A rule expected to hold 1-12 holdout rows (the round's minimum is 30)."""
        share = self.rng.uniform(1, 12) / self.holdout_rows
        column = self.rng.choice(BROAD_COLUMNS)
        if self.rng.random() < 0.5:
            rule = f"{column} > {NormalDist().inv_cdf(1 - share):.2f}"
        else:
            cut = NormalDist().inv_cdf(share * len(CATEGORIES))
            rule = f'{column} < {cut:.2f} and c1 == "{self.rng.choice(CATEGORIES)}"'
        rows = self.mask(rule)
        return self.planned("too_small", self.tree(rows, self.labels, 2, BROAD_COLUMNS), rule)

    def _unusable_h(self) -> bytes:
        """An h answering a class the label lacks, or two values per row."""
        rows = np.zeros(len(self.labels), dtype=np.bool_)
        rows[:500] = True
        if self.rng.random() < 0.5:
            return self.tree(rows, np.full(len(rows), BOGUS_CLASS, dtype=np.int64), 1)
        two = np.column_stack([self.labels, 1 - self.labels])
        return self.tree(rows, two, 2)  # a 2-column target

    def invalid(self) -> Planned:
        """An unusable h on the holdout's outliers (by a rule, or a group model that learnt
        them from a few made-up rows)."""
        h = self._unusable_h()
        if self.rng.random() < 0.5:
            return self.planned("invalid", h, f"x0 > {self.rng.randint(40, 49)}")
        return self.planned("invalid", h, g=self._outlier_group_model())

    def _outlier_group_model(self) -> bytes:
        """A 0/1 tree that is 1 only where x0 is far beyond the train rows."""
        extra = self.features.head(N_OUTLIERS).assign(x0=OUTLIER_X0)
        features = pd.concat([self.features, extra], ignore_index=True)
        target = np.r_[np.zeros(len(self.features)), np.ones(N_OUTLIERS)].astype(np.int64)
        seed = self.rng.randrange(2**31)
        tree = DecisionTreeClassifier(max_depth=2, random_state=seed)
        model = Pipeline([("features", ordinal_features(self.schema)), ("tree", tree)])
        model.fit(features, target)
        return dump_sklearn_model(model)

    def refused(self) -> Planned:
        """One of the mistakes the upload check answers with 422."""
        rule = self.broad_rule()
        rows = self.mask(rule)
        good = self.tree(rows, self.labels, 2, BROAD_COLUMNS)
        choice = self.rng.randrange(5)
        if choice == 0:
            return self.planned("refused", good[: len(good) // 2], rule)  # truncated upload
        if choice == 1:
            return self.planned("refused", b"not a model, a note to self\n", rule)
        if choice == 2:
            two = np.column_stack([self.labels, 1 - self.labels])
            return self.planned("refused", self.tree(rows, two, 2), rule)
        if choice == 3:
            return self.planned("refused", good, self.rng.choice(("x0 >", "(x1 < 0", "c1 == ")))
        return self.planned("refused", good, self.rng.choice(("x9 > 0", "age > 30")))


def fix_rules(planted: Sequence[str], count: int) -> list[str]:
    """``count`` disjoint cells of the planted groups: each group cut by ``c1`` into as few
    parts as give enough cells (the whole group when one part is enough)."""
    parts = min(len(CATEGORIES), math.ceil(count / len(planted)))
    if parts == 1:
        return list(planted[:count])
    cells = []
    for part in np.array_split(np.array(CATEGORIES), parts):
        values = ", ".join(f'"{c}"' for c in part)
        cells += [f"{rule} and c1 in ({values})" for rule in planted]
    return cells[:count]


def plan(builder: Builder, planted: Sequence[str], n: int) -> list[Planned]:
    """``n`` submissions in a seeded random order, ``counts(n)`` of each kind."""
    wanted = counts(n)
    makers: dict[Kind, Callable[[], Planned]] = {
        "no_improvement": builder.no_improvement,
        "too_small": builder.too_small,
        "invalid": builder.invalid,
        "refused": builder.refused,
    }
    made = [builder.fix(rule) for rule in fix_rules(planted, wanted["fix"])]
    made += [makers[kind]() for kind in makers for _ in range(wanted[kind])]
    builder.rng.shuffle(made)
    return made
