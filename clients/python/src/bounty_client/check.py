"""``bounty check``: decide a pair locally on the public train split, before spending quota.

The same engine code as the platform's workers (``bounty_engine``) decides the pair with the
round's rules, against the current model's predictions on the train split (which the server
publishes), so the train-split statistics are exactly those the verdict will show. Only the
holdout is missing: the minimum group size is applied to the group's expected holdout rows
(its train rows scaled by the split sizes), and the holdout verdict can still differ where
the two splits disagree.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from bounty_client.models import RulesOut
from bounty_engine.data import label_values, prepare_features
from bounty_engine.decision import Decision, PairStats
from bounty_engine.error_rates import positive_class
from bounty_engine.errors import EngineError
from bounty_engine.groups import Group
from bounty_engine.losses import Loss, LossKind, cost_matrix
from bounty_engine.models import LoadedModel
from bounty_engine.predictions import encode_labels, encode_predictions
from bounty_engine.round import RoundRules, run_pair
from bounty_engine.schema import FeatureSchema


@dataclass(frozen=True)
class LocalCheck:
    """The local verdict: the decision on the train split, and the expected holdout group."""

    decision: Decision
    expected_holdout_rows: int
    min_group_rows: int

    @property
    def train(self) -> PairStats | None:
        """The pair's statistics on the train split (None if the pair could not run)."""
        return self.decision.stats.get("train")

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        stats = self.train
        return {
            "outcome": self.decision.outcome.value,
            "reason": self.decision.reason.value,
            "message": self.decision.message,
            "expected_holdout_rows": self.expected_holdout_rows,
            "min_group_rows": self.min_group_rows,
            "train": None
            if stats is None
            else {
                "n_rows": stats.n_rows,
                "n_group": stats.n_group,
                "group_loss_before": stats.group_loss_before,
                "group_loss_after": stats.group_loss_after,
                "score": stats.score,
                **error_rates(stats),
            },
        }


def error_rates(stats: PairStats) -> dict[str, float | None]:
    """The group's false-positive and false-negative rates before and after, named as the
    verdict names them (two-class rounds; empty otherwise)."""
    out: dict[str, float | None] = {}
    for when, rates in (("before", stats.rates_before), ("after", stats.rates_after)):
        if rates is not None:
            out[f"false_positive_rate_{when}"] = rates.false_positive_rate
            out[f"false_negative_rate_{when}"] = rates.false_negative_rate
    return out


def round_rules(rules: RulesOut) -> RoundRules:
    """The engine's rules for a round, from the rules the API shows."""
    return RoundRules(
        Loss(LossKind(rules.loss), rules.loss_clip, cost_matrix(rules.loss_costs)),
        alpha=rules.alpha,
        min_group_rows=rules.min_group_rows,
        repair_alpha=rules.repair_alpha,
    )


def check_pair(
    schema: FeatureSchema,
    rules: RoundRules,
    train: pd.DataFrame,
    current_predictions: npt.ArrayLike,
    *,
    n_holdout: int,
    group: Group,
    model: LoadedModel,
) -> LocalCheck:
    """Decide (group, model) on ``train`` against the current model's ``current_predictions``
    (label values, one per train row) under the round's ``rules``."""
    features = prepare_features(train, schema)
    n_train = len(features)
    # The group must be expected to have min_group_rows holdout rows: scale the rule to train.
    train_min = max(1, math.ceil(rules.min_group_rows * n_train / max(n_holdout, 1)))
    rules = dataclasses.replace(rules, pos_label=positive_class(schema.label))
    evaluator = rules.evaluator("train", min_group_rows=train_min)
    labels = encode_labels(label_values(train, schema), schema.label)
    current = encode_predictions(np.asarray(current_predictions), n_train, schema.label)
    evaluator.fit({"train": labels}, {"train": current})
    try:
        output = run_pair(group, model, features, schema.label)
    except EngineError as exc:
        decision = Decision.invalid("local-check", str(exc))
    else:
        decision = evaluator.decide("local-check", {"train": output})
    stats = decision.stats.get("train")
    expected = round(stats.n_group * n_holdout / n_train) if stats and n_train else 0
    return LocalCheck(decision, expected, rules.min_group_rows)
