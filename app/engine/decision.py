"""The decision step of a bounty round (DESIGN.md section 2), on cached arrays.

``BountyEvaluator`` holds, for every tracked split (the decision split, usually the holdout, and
any shadow splits such as train or test that follow the same model), the head version's
predictions and per-row losses, and for every accepted group its rows and the cached predictions
of its best version. Deciding a pair costs O(n) for the pair plus the rows of accepted groups
whose loss it changes; earlier models are never re-run and no Python loop runs over rows.

Predictions are encoded: int class codes for classification, float64 for regression.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import numpy as np
import numpy.typing as npt

from app.engine.errors import EngineError, PredictionError
from app.engine.losses import Loss
from app.engine.membership import Membership
from app.engine.schema import Task

Array = npt.NDArray[np.generic]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]


class Outcome(StrEnum):
    """The verdict on a pair."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    INVALID = "invalid"


class Reason(StrEnum):
    """Why a pair got its verdict (DESIGN.md section 2, in the order they are checked)."""

    INVALID = "invalid"
    GROUP_TOO_SMALL = "group_too_small"
    NO_IMPROVEMENT = "no_improvement"
    BELOW_THRESHOLD = "below_threshold"
    ACCEPTED = "accepted"


@dataclass(frozen=True)
class PairOutput:
    """What g and h produced on one split: the group mask and h's encoded predictions on it."""

    mask: BoolArray
    predictions: Array


@dataclass(frozen=True)
class PairStats:
    """A pair measured on one split against the head version it was decided against."""

    n_rows: int
    n_group: int
    group_loss_before: float | None
    group_loss_after: float | None
    score: float
    loss_before: float

    @property
    def loss_after_patch(self) -> float:
        """The split's mean loss if only this patch were applied."""
        return self.loss_before - self.score


@dataclass(frozen=True)
class Repair:
    """A pointer node prepended to restore an earlier group's best loss on the decision split."""

    version: int
    group_key: str
    target_version: int
    group_loss_before: float
    group_loss_after: float


@dataclass(frozen=True)
class VersionInfo:
    """One immutable model version: the node that made it and each split's mean loss after it."""

    version: int
    kind: Literal["base", "patch", "pointer"]
    group_key: str | None
    target_version: int | None
    loss: dict[str, float]


@dataclass(frozen=True)
class Decision:
    """The verdict on one pair, with everything the participant and organizer may be shown."""

    key: str
    outcome: Outcome
    reason: Reason
    message: str
    stats: dict[str, PairStats] = field(default_factory=dict)
    version: int | None = None
    repairs: tuple[Repair, ...] = ()
    loss_before: dict[str, float] = field(default_factory=dict)
    loss_after: dict[str, float] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        """Whether the pair was spliced into the model."""
        return self.outcome is Outcome.ACCEPTED

    @classmethod
    def invalid(cls, key: str, message: str) -> Decision:
        """An invalid verdict: g or h could not be loaded or run, or gave unusable output."""
        return cls(key=key, outcome=Outcome.INVALID, reason=Reason.INVALID, message=message)


@dataclass(frozen=True)
class _Rows:
    """A checked pair output: the group's row indices and h's predictions on them."""

    idx: IntArray
    values: Array


@dataclass
class _SplitState:
    y: Array
    pred: Array
    row_loss: npt.NDArray[np.float64]
    loss_sum: float

    @property
    def n(self) -> int:
        return len(self.y)


@dataclass
class AcceptedGroup:
    """An accepted group: its rows per split, current and best loss on the decision split."""

    key: str
    accepted_version: int
    rows: dict[str, IntArray]
    loss_sum: float
    best_loss_sum: float
    best_version: int
    best_pred: dict[str, Array]

    @property
    def n_rows(self) -> int:
        """Rows of the group on the decision split."""
        return len(next(iter(self.rows.values())))


class BountyEvaluator:
    """Decides pairs against a round's cached predictions, prepending patch and pointer nodes.

    Parameters follow DESIGN.md section 2: ``alpha`` is the minimum score (in loss units per
    decision-split row), ``min_group_rows`` the minimum group size on the decision split, and
    ``repair_alpha`` the tolerance beyond which an earlier group is repaired.
    """

    def __init__(
        self,
        loss: Loss,
        *,
        alpha: float = 0.0,
        min_group_rows: int = 1,
        repair_alpha: float = 0.0,
        decision_split: str = "holdout",
    ) -> None:
        self.loss = loss
        self.alpha = alpha
        self.min_group_rows = min_group_rows
        self.repair_alpha = repair_alpha
        self.decision_split = decision_split

    def fit(self, y: Mapping[str, Array], base_predictions: Mapping[str, Array]) -> BountyEvaluator:
        """Start from the base model f0: ``y`` and ``base_predictions`` per split, encoded."""
        if self.alpha < 0 or self.repair_alpha < 0:
            raise EngineError("alpha and repair_alpha must be non-negative")
        if self.min_group_rows < 1:
            raise EngineError("min_group_rows must be at least 1")
        if self.decision_split not in y or set(y) != set(base_predictions):
            raise EngineError(
                f"labels and base predictions must be given for the same splits, "
                f"including the decision split {self.decision_split!r}"
            )
        self.splits_: dict[str, _SplitState] = {}
        for name, given in y.items():
            pred = np.asarray(base_predictions[name])
            labels = np.asarray(given)
            if pred.shape != labels.shape or labels.ndim != 1:
                raise EngineError(f"split {name!r}: predictions and labels differ in shape")
            row_loss = self.loss(pred, labels)
            self.splits_[name] = _SplitState(labels, pred.copy(), row_loss, float(row_loss.sum()))
        self.groups_: list[AcceptedGroup] = []
        self._accepted_keys: set[str] = set()
        self._candidates: set[int] = set()
        self.membership_ = Membership(self._decision.n)
        self.versions_: list[VersionInfo] = [VersionInfo(0, "base", None, None, self._mean_loss())]
        return self

    @property
    def head_version(self) -> int:
        """The newest version (0 is the base model)."""
        return len(self.versions_) - 1

    @property
    def _decision(self) -> _SplitState:
        return self.splits_[self.decision_split]

    def head_predictions(self, split: str | None = None) -> Array:
        """A read-only view of the head version's encoded predictions on a split."""
        view = self.splits_[split or self.decision_split].pred.view()
        view.flags.writeable = False
        return view

    def head_loss(self, split: str | None = None) -> float:
        """The head version's mean loss on a split."""
        state = self.splits_[split or self.decision_split]
        return state.loss_sum / state.n

    def decide(self, key: str, outputs: Mapping[str, PairOutput]) -> Decision:
        """Decide one pair, given g's mask and h's predictions on every tracked split."""
        try:
            checked = {name: self._check_output(name, outputs) for name in self.splits_}
        except PredictionError as exc:
            return Decision.invalid(key, str(exc))
        if key in self._accepted_keys:
            raise EngineError(f"a pair with key {key!r} was already accepted")
        stats = {name: self._stats(self.splits_[name], out) for name, out in checked.items()}
        main = stats[self.decision_split]
        loss_before = self._mean_loss()
        verdict = self._verdict(main)
        if verdict is not None:
            reason, message = verdict
            return Decision(
                key, Outcome.REJECTED, reason, message, stats, None, (), loss_before, loss_before
            )
        version = self._accept(key, checked)
        repairs = self._repair()
        return Decision(
            key,
            Outcome.ACCEPTED,
            Reason.ACCEPTED,
            f"accepted: the model improves by {main.score:.6g} on the {self.decision_split}"
            + (f", with {len(repairs)} repair(s)" if repairs else ""),
            stats,
            version,
            tuple(repairs),
            loss_before,
            self._mean_loss(),
        )

    def _check_output(self, name: str, outputs: Mapping[str, PairOutput]) -> _Rows:
        if name not in outputs:
            raise PredictionError(f"no output for split {name!r}")
        out = outputs[name]
        mask = np.asarray(out.mask)
        n = self.splits_[name].n
        if mask.dtype != np.bool_ or mask.shape != (n,):
            raise PredictionError(f"the group must give one true/false value for each of {n} rows")
        idx = np.flatnonzero(mask)
        q = np.asarray(out.predictions)
        if q.shape != idx.shape:
            raise PredictionError(
                f"the model must give one prediction for each of the group's {len(idx)} rows, "
                f"got shape {q.shape}"
            )
        if self.loss.task is Task.CLASSIFICATION:
            if q.dtype.kind not in "iu":
                raise PredictionError("classification predictions must be encoded class codes")
        elif q.dtype.kind != "f" or not np.isfinite(q).all():
            raise PredictionError("regression predictions must be finite numbers")
        return _Rows(idx, q)

    def _stats(self, state: _SplitState, rows: _Rows) -> PairStats:
        n_group = len(rows.idx)
        before = float(state.row_loss[rows.idx].sum())
        after = float(self.loss(rows.values, state.y[rows.idx]).sum())
        return PairStats(
            n_rows=state.n,
            n_group=n_group,
            group_loss_before=before / n_group if n_group else None,
            group_loss_after=after / n_group if n_group else None,
            score=(before - after) / state.n,
            loss_before=state.loss_sum / state.n,
        )

    def _verdict(self, stats: PairStats) -> tuple[Reason, str] | None:
        if stats.n_group < self.min_group_rows:
            return Reason.GROUP_TOO_SMALL, (
                f"the group has {stats.n_group} rows on the {self.decision_split}; "
                f"at least {self.min_group_rows} are required"
            )
        if stats.score <= 0:
            return Reason.NO_IMPROVEMENT, "the model does not improve on the group"
        if stats.score < self.alpha:
            return Reason.BELOW_THRESHOLD, (
                f"the improvement {stats.score:.6g} is below the round's threshold {self.alpha:g}"
            )
        return None

    def _accept(self, key: str, outputs: Mapping[str, _Rows]) -> int:
        rows = {name: out.idx for name, out in outputs.items()}
        changed = self._set_rows(rows, {name: out.values for name, out in outputs.items()})
        version = self._new_version("patch", key, None)
        group = AcceptedGroup(
            key=key,
            accepted_version=version,
            rows=rows,
            loss_sum=self._group_loss_sum(rows[self.decision_split]),
            best_loss_sum=0.0,
            best_version=version,
            best_pred={},
        )
        self._record_best(group, version)
        self._refresh(changed, version)
        self.groups_.append(group)
        self._accepted_keys.add(key)
        self.membership_.add(len(self.groups_) - 1, rows[self.decision_split])
        self._candidates = set(changed)
        return version

    def _repair(self) -> list[Repair]:
        repairs: list[Repair] = []
        n = self._decision.n
        while True:
            violating = [
                pos
                for pos in sorted(self._candidates)
                if (self.groups_[pos].loss_sum - self.groups_[pos].best_loss_sum) / n
                > self.repair_alpha
            ]
            if not violating:
                return repairs
            pos = violating[0]
            group = self.groups_[pos]
            before = group.loss_sum
            changed = self._set_rows(group.rows, group.best_pred)
            version = self._new_version("pointer", group.key, group.best_version)
            self._refresh([*changed, pos], version)
            self._candidates.update(changed)
            n_j = group.n_rows
            repairs.append(
                Repair(version, group.key, group.best_version, before / n_j, group.loss_sum / n_j)
            )

    def _set_rows(self, rows: Mapping[str, IntArray], preds: Mapping[str, Array]) -> list[int]:
        """Write predictions on rows of every split; return the accepted groups whose loss moved."""
        moved: IntArray = np.empty(0, dtype=np.intp)
        for name, state in self.splits_.items():
            idx, q = rows[name], preds[name]
            state.pred[idx] = q
            new_loss = self.loss(q, state.y[idx])
            old_loss = state.row_loss[idx]
            if name == self.decision_split:
                moved = idx[new_loss != old_loss]
            state.row_loss[idx] = new_loss
            # Exact for 0-1 loss; for other losses the drift is far below any alpha.
            state.loss_sum += float(new_loss.sum()) - float(old_loss.sum())
        return [int(p) for p in self.membership_.groups_touching(moved)]

    def _refresh(self, positions: Iterable[int], version: int) -> None:
        """Recompute current losses of groups whose rows moved and record any new best."""
        for pos in set(positions):
            group = self.groups_[pos]
            group.loss_sum = self._group_loss_sum(group.rows[self.decision_split])
            if group.loss_sum < group.best_loss_sum:
                self._record_best(group, version)

    def _record_best(self, group: AcceptedGroup, version: int) -> None:
        group.best_loss_sum = group.loss_sum
        group.best_version = version
        group.best_pred = {n: s.pred[group.rows[n]].copy() for n, s in self.splits_.items()}

    def _group_loss_sum(self, idx: IntArray) -> float:
        return float(self._decision.row_loss[idx].sum())

    def _new_version(self, kind: Literal["patch", "pointer"], key: str, target: int | None) -> int:
        version = len(self.versions_)
        self.versions_.append(VersionInfo(version, kind, key, target, self._mean_loss()))
        return version

    def _mean_loss(self) -> dict[str, float]:
        return {name: s.loss_sum / s.n for name, s in self.splits_.items()}


def replay(
    evaluator: BountyEvaluator,
    y: Mapping[str, Array],
    base_predictions: Mapping[str, Array],
    pairs: Iterable[tuple[str, Mapping[str, PairOutput]]],
) -> list[Decision]:
    """Refit ``evaluator`` from f0 and decide ``pairs`` in order; returns the decisions."""
    evaluator.fit(y, base_predictions)
    return [evaluator.decide(key, outputs) for key, outputs in pairs]
