"""The soak's data and pairs: a synthetic round with planted groups, and a pool of pairs of
every kind a verdict can take (accepted, rejected, invalid) or the upload check refuses.

The round's splits are uploaded as they are: the holdout and test splits carry a few rows with
``x0`` far beyond any train row, so a rule on them is empty on the public sample the upload
check runs (it passes) but not on the holdout, where its h's bogus class makes it invalid.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

from bounty_engine.baseline import ordinal_features, train_patch_model
from bounty_engine.data import prepare_features
from bounty_engine.datasets.synthetic import LABEL, make_synthetic
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model
from bounty_engine.schema import FeatureSchema

Kind = Literal["planted", "random", "group-model", "invalid", "refused"]
FRACTIONS = (0.6, 0.2, 0.2)
OUTLIER_X0 = 50.0
OUTLIER_RULE = "x0 > 40"
BOGUS_CLASS = 7  # not a class of the label: h's output is unusable where it runs
N_PLANTED = 6


@dataclass(frozen=True)
class Pair:
    """A pair to submit: a rule or a group model, and h (skops bytes)."""

    kind: Kind
    model: bytes
    expression: str | None = None
    group_model: bytes | None = None


def write_splits(folder: Path, rows: int, seed: int) -> tuple[dict[str, Path], list[str]]:
    """Synthetic splits as CSV files with outliers in holdout and test; (paths, planted rules)."""
    data = make_synthetic(rows, n_planted=N_PLANTED, seed=seed)
    order = np.random.default_rng(seed).permutation(rows)
    cut = np.cumsum([int(f * rows) for f in FRACTIONS[:2]])
    parts = dict(zip(("train", "holdout", "test"), np.split(order, cut), strict=True))
    paths = {}
    for name, idx in parts.items():
        frame = data.frame.iloc[idx].reset_index(drop=True)
        if name != "train":
            frame.loc[:3, "x0"] = OUTLIER_X0 + np.arange(4)
        paths[name] = folder / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths, [g.expression for g in data.planted]


def _tree(features: pd.DataFrame, target: np.ndarray, schema: FeatureSchema, depth: int) -> bytes:
    model = Pipeline(
        [
            ("features", ordinal_features(schema)),
            ("model", DecisionTreeClassifier(max_depth=depth, random_state=0)),
        ]
    )
    model.fit(features, target)
    return dump_sklearn_model(model)


def _random_rule(rng: random.Random) -> str:
    column = f"x{rng.randrange(4)}"
    threshold = round(rng.uniform(-1.5, 1.5), 2)
    side = rng.choice((">", "<"))
    if rng.random() < 0.5:
        return f"{column} {side} {threshold}"
    return f'{column} {side} {threshold} and c{rng.randrange(2)} == "{rng.choice("abcde")}"'


def build_pairs(
    train: pd.DataFrame, schema: FeatureSchema, planted: list[str], seed: int
) -> dict[Kind, list[Pair]]:
    """A pool of distinct pairs by kind, built from the public train split alone."""
    rng = random.Random(seed)  # noqa: S311 (seeded for reproducibility)
    features = prepare_features(train, schema)
    labels = train[LABEL].to_numpy()
    pool: dict[Kind, list[Pair]] = {kind: [] for kind in get_args(Kind)}
    for i, rule in enumerate(planted):
        mask = RuleGroup.parse(rule, schema).mask(features)
        for depth in (3, 5):  # two hs for each group: distinct files, same group
            h = _tree(features.loc[mask], labels[mask], schema, depth=depth)
            pool["planted"].append(Pair("planted", h, expression=rule))
        if i == 0:  # the platform's default patch model too (slower to train: just one)
            h = dump_sklearn_model(train_patch_model(train, schema, mask))
            pool["planted"].append(Pair("planted", h, expression=rule))
    while len(pool["random"]) < 10:
        rule = _random_rule(rng)
        mask = RuleGroup.parse(rule, schema).mask(features)
        if mask.sum() >= 5:
            h = _tree(features.loc[mask], labels[mask], schema, depth=rng.randrange(1, 4))
            pool["random"].append(Pair("random", h, expression=rule))
    for rule in planted[:3]:
        mask = RuleGroup.parse(rule, schema).mask(features)
        g = _tree(features, mask.astype(np.int64), schema, depth=6)
        h = _tree(features.loc[mask], labels[mask], schema, depth=4)
        pool["group-model"].append(Pair("group-model", h, group_model=g))
    for depth in (1, 2):
        bogus = _tree(features, np.full(len(features), BOGUS_CLASS), schema, depth=depth)
        pool["invalid"].append(Pair("invalid", bogus, expression=OUTLIER_RULE))
    valid_h = pool["planted"][0].model
    for rule in ("x9 > 0", "x0 >", "c0 == "):  # an unknown column, syntax errors: 422
        pool["refused"].append(Pair("refused", valid_h, expression=rule))
    return pool


WEIGHTS: dict[Kind, float] = {
    "planted": 0.4,
    "random": 0.3,
    "group-model": 0.1,
    "invalid": 0.1,
    "refused": 0.1,
}


def plan_submissions(pool: dict[Kind, list[Pair]], n: int, seed: int) -> list[Pair]:
    """``n`` pairs drawn from the pool by kind weight (seeded): repeats of a group are
    rejected as no improvement once the group is in the model."""
    rng = random.Random(seed + 1)  # noqa: S311 (seeded for reproducibility)
    kinds = list(WEIGHTS)
    drawn = rng.choices(kinds, weights=[WEIGHTS[k] for k in kinds], k=n)
    return [rng.choice(pool[kind]) for kind in drawn]
