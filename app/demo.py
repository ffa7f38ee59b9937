"""The demo round on the UCI Adult census data: a base model and a few teams' pairs."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from bounty_engine.baseline import train_default_model, train_patch_model
from bounty_engine.data import infer_schema, prepare_features, split_frame
from bounty_engine.datasets.adult import ADULT_LABEL, load_adult
from bounty_engine.datasets.adult_demo import DEMO_RULES, DEMO_SEED, DEMO_SPLIT
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model, load_model
from bounty_engine.round import BountyRound, Submission

# (team, group rule): groups on which a logistic regression on all of Adult does badly.
DEMO_PAIRS: list[tuple[str, str]] = [
    ("census-sleuths", "capital_gain > 0"),
    ("fairness-lab", 'marital_status == "Married-civ-spouse"'),
    ("fairness-lab", 'marital_status == "Married-civ-spouse" and 9 <= education_num <= 12'),
    ("data-detectives", 'occupation in ("Exec-managerial", "Prof-specialty") and age >= 30'),
]


@dataclass(frozen=True)
class DemoRound:
    """The demo round and the team that made each of its submissions."""

    round: BountyRound
    teams: dict[str, str]
    train: pd.DataFrame


def build_demo_round() -> DemoRound:
    """Split Adult, train the default base model, and decide the demo teams' pairs in order."""
    frame = load_adult()
    schema = infer_schema(frame, ADULT_LABEL)
    split = split_frame(frame, DEMO_SPLIT, seed=DEMO_SEED)
    base = load_model(dump_sklearn_model(train_default_model(split.train, schema, seed=DEMO_SEED)))
    bounty = BountyRound(
        schema,
        DEMO_RULES,
        base,
        {"holdout": split.holdout, "train": split.train, "test": split.test},
    )
    train_features = prepare_features(split.train, schema)
    teams: dict[str, str] = {}
    for i, (team, expression) in enumerate(DEMO_PAIRS, start=1):
        group = RuleGroup.parse(expression, schema)
        h = train_patch_model(split.train, schema, group.mask(train_features), seed=DEMO_SEED)
        key = f"demo-{i}"
        teams[key] = team
        bounty.submit(Submission(key, group, load_model(dump_sklearn_model(h))))
    return DemoRound(bounty, teams, split.train)
