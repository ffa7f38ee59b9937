"""A bounty round in memory: run pairs on the splits, decide them, and keep the model.

This is what the demo, the local pre-check, replays and tests use. The service runs the same
steps, with g and h executed in a sandboxed child process instead of in-process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bounty_engine.data import label_values, prepare_features
from bounty_engine.decision import BountyEvaluator, Decision, PairOutput
from bounty_engine.errors import EngineError
from bounty_engine.groups import Group
from bounty_engine.losses import Loss, LossKind
from bounty_engine.models import LoadedModel
from bounty_engine.pdl import PatchNode, PointerDecisionList, PointerNode
from bounty_engine.predictions import encode_labels, encode_predictions
from bounty_engine.schema import FeatureSchema, LabelInfo, Task
from bounty_engine.significance import AcceptanceTest


@dataclass(frozen=True)
class RoundRules:
    """The organizer's settings that decide pairs (docs/acceptance.md)."""

    loss: Loss = field(default_factory=Loss)
    alpha: float = 0.0
    min_group_rows: int = 1
    repair_alpha: float = 0.0
    acceptance_test: AcceptanceTest = AcceptanceTest.THRESHOLD
    confidence: float = 0.95
    planned_submissions: int = 1000
    test_guard: bool = False
    pos_label: int | None = None
    """The positive class of a two-class round (``bounty_engine.error_rates.positive_class``):
    verdicts then count false positives and negatives."""

    def evaluator(
        self, decision_split: str = "holdout", *, min_group_rows: int | None = None
    ) -> BountyEvaluator:
        """An unfitted evaluator that decides by these rules on ``decision_split`` (a local
        check on train passes its own ``min_group_rows``; the test guard applies only to
        decisions on the holdout, with the test split tracked)."""
        guarded = self.test_guard and decision_split == "holdout"
        return BountyEvaluator(
            self.loss,
            alpha=self.alpha,
            min_group_rows=self.min_group_rows if min_group_rows is None else min_group_rows,
            repair_alpha=self.repair_alpha,
            decision_split=decision_split,
            acceptance_test=self.acceptance_test,
            confidence=self.confidence,
            planned_submissions=self.planned_submissions,
            guard_split="test" if guarded else None,
            pos_label=self.pos_label,
        )

    @classmethod
    def for_task(cls, task: Task, **settings: object) -> RoundRules:
        """Rules with the default loss of ``task`` (0-1 error, or squared error)."""
        kind = LossKind.ZERO_ONE if task is Task.CLASSIFICATION else LossKind.SQUARED
        return cls(Loss(kind), **settings)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Submission:
    """A pair (g, h) with the key that identifies it within its round."""

    key: str
    group: Group
    model: LoadedModel


def run_pair(
    group: Group, model: LoadedModel, features: pd.DataFrame, label: LabelInfo
) -> PairOutput:
    """Run g on ``features`` and h on the group's rows; raise EngineError on unusable output."""
    mask = group.mask(features)
    n_group = int(np.count_nonzero(mask))
    if n_group == 0:
        dtype = np.int32 if label.task is Task.CLASSIFICATION else np.float64
        return PairOutput(mask, np.empty(0, dtype=dtype))
    raw = model.predict(features.loc[mask])
    return PairOutput(mask, encode_predictions(raw, n_group, label))


class BountyRound:
    """A round's splits, base model, rules, model versions and decisions, in memory."""

    def __init__(
        self,
        schema: FeatureSchema,
        rules: RoundRules,
        base_model: LoadedModel,
        splits: Mapping[str, pd.DataFrame],
        *,
        decision_split: str = "holdout",
    ) -> None:
        if rules.loss.task is not schema.label.task:
            raise EngineError(
                f"loss {rules.loss.kind.value!r} does not fit a {schema.label.task.value} task"
            )
        self.schema = schema
        self.rules = rules
        self.base_model = base_model
        self.decision_split = decision_split
        self._splits = dict(splits)
        self.features = {name: prepare_features(frame, schema) for name, frame in splits.items()}
        labels = {
            name: encode_labels(label_values(frame, schema), schema.label)
            for name, frame in splits.items()
        }
        base = {
            name: encode_predictions(base_model.predict(x), len(x), schema.label)
            for name, x in self.features.items()
        }
        self.evaluator = rules.evaluator(decision_split).fit(labels, base)
        self.model = PointerDecisionList(base_model, schema.label)
        self.submissions: list[Submission] = []
        self.accepted: dict[str, Submission] = {}
        self.decisions: list[Decision] = []

    def submit(self, submission: Submission) -> Decision:
        """Evaluate and decide one pair, splicing it into the model if accepted."""
        try:
            outputs = {
                name: run_pair(submission.group, submission.model, x, self.schema.label)
                for name, x in self.features.items()
            }
        except EngineError as exc:
            decision = Decision.invalid(submission.key, str(exc))
        else:
            decision = self.evaluator.decide(submission.key, outputs)
        self._record(submission, decision)
        return decision

    def submit_all(self, submissions: Iterable[Submission]) -> list[Decision]:
        """Decide ``submissions`` in order (first come, first served)."""
        return [self.submit(s) for s in submissions]

    def replay(self, exclude: Iterable[str] = ()) -> BountyRound:
        """A new round from f0 that decides the same submissions in order, less ``exclude``.

        Replaying everything reproduces this round exactly; excluding a key is how a
        disqualified submission is taken out of the model and the leaderboard.
        """
        skipped = set(exclude)
        fresh = BountyRound(
            self.schema,
            self.rules,
            self.base_model,
            self._splits,
            decision_split=self.decision_split,
        )
        fresh.submit_all(s for s in self.submissions if s.key not in skipped)
        return fresh

    def _record(self, submission: Submission, decision: Decision) -> None:
        self.submissions.append(submission)
        self.decisions.append(decision)
        if not decision.accepted:
            return
        self.accepted[submission.key] = submission
        self.model.append(PatchNode(submission.key, submission.group, submission.model))
        for repair in decision.repairs:
            group = self.accepted[repair.group_key].group
            self.model.append(PointerNode(repair.group_key, group, repair.target_version))
