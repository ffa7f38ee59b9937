"""The decision step of a bounty round (docs/acceptance.md), on cached arrays.

``BountyEvaluator`` holds, for every tracked split (the decision split, usually the holdout, and
any shadow splits such as train or test that follow the same model), the head version's
predictions and per-row losses, and for every accepted group its rows and the cached predictions
of its best version. Deciding a pair costs O(n) for the pair plus the rows of accepted groups
whose loss it changes; earlier models are never re-run and no Python loop runs over rows.

Loss sums are exact (``bounty_engine.exact``), so verdicts and repairs never depend on the order
in which floats were added, and every repair strictly lowers the exact holdout loss: the repair
loop always ends. Predictions are encoded: int class codes for classification, float64 for
regression.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import numpy as np
import numpy.typing as npt

from bounty_engine.accepted import AcceptedGroup, AcceptedGroups
from bounty_engine.error_rates import ErrorRates
from bounty_engine.errors import EngineError, PredictionError
from bounty_engine.exact import SCALE_BITS, decimal_units, exact_sum, exact_sums_by, to_float
from bounty_engine.losses import Loss, LossKind
from bounty_engine.membership import Membership
from bounty_engine.schema import Task
from bounty_engine.significance import (
    Z_95,
    AcceptanceTest,
    SignificanceResult,
    Spending,
    paired_test,
)

Array = npt.NDArray[np.generic]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


class Outcome(StrEnum):
    """The verdict on a pair."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    INVALID = "invalid"


class Reason(StrEnum):
    """Why a pair got its verdict (docs/acceptance.md, in the order they are checked)."""

    INVALID = "invalid"
    GROUP_TOO_SMALL = "group_too_small"
    NO_IMPROVEMENT = "no_improvement"
    BELOW_THRESHOLD = "below_threshold"
    NOT_SIGNIFICANT = "not_significant"
    HELD_FOR_REVIEW = "held_for_review"
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
    score_se: float = 0.0
    """The standard error of ``score`` as an estimate of the same change on fresh data (from
    the per-row loss differences over the split)."""
    rates_before: ErrorRates | None = None
    """The head's false-positive and false-negative counts on the group's rows (two-class
    rounds with a ``pos_label``; ``bounty_engine.error_rates``)."""
    rates_after: ErrorRates | None = None
    """The same for h's predictions on those rows."""

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
    group_loss_reduction: float
    """The exact fall of the group's mean loss, correctly rounded: always positive, even when
    ``group_loss_before`` and ``group_loss_after`` round to the same float (a repair may undo
    a regression as small as one float's last bit, which the rule with repair_alpha 0 asks for)."""


@dataclass(frozen=True)
class VersionInfo:
    """One immutable model version: the node that made it and each split's mean loss after it."""

    version: int
    kind: Literal["base", "patch", "pointer"]
    group_key: str | None
    target_version: int | None
    loss: dict[str, float]
    step_se: dict[str, float] = field(default_factory=dict)
    """Per split, the standard error of the loss change from the previous version."""
    base_se: dict[str, float] = field(default_factory=dict)
    """Per split, the standard error of the loss change from the base model."""


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
    test: SignificanceResult | None = None
    """The significance test on the decision split, for pairs that reached it."""

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
    """A checked pair output on one split: row indices, h's predictions and their losses, and
    the head's losses on the same rows (gathered once for the sums, statistics and tests)."""

    idx: IntArray
    values: Array
    loss: FloatArray
    head_loss: FloatArray


@dataclass
class _SplitState:
    y: Array
    pred: Array
    row_loss: FloatArray
    loss_units: int  # exact sum of row_loss (bounty_engine.exact units)
    base_loss: FloatArray
    written_at: IntArray  # the version that last wrote each row's prediction
    # Running sums of (base_loss - row_loss) and its square, for the gain's standard error.
    gain_sum: float = 0.0
    gain_squares: float = 0.0
    step_se: float = 0.0  # the standard error of the last change's per-row loss differences

    @property
    def n(self) -> int:
        return len(self.y)


class BountyEvaluator:
    """Decides pairs against a round's cached predictions, prepending patch and pointer nodes.

    Parameters follow docs/acceptance.md: ``alpha`` is the minimum score (in loss units per
    decision-split row), ``min_group_rows`` the minimum group size on the decision split, and
    ``repair_alpha`` the tolerance beyond which an earlier group is repaired. With
    ``acceptance_test`` "significance", a pair must also pass a one-sided paired test at the
    level ``Spending(confidence, planned_submissions)`` gives its place among the round's tested
    pairs (``bounty_engine.significance``). With ``guard_split`` (the sealed test split), a pair
    that passes everything is still held for review, not spliced in, if on that split it makes
    the model worse beyond its 95% interval, or leaves the head worse than the base model beyond
    its interval; ``decide(..., release=True)`` waives that for a pair an organizer released.
    With ``pos_label`` (the positive class code of a two-class label), each split's statistics
    also count the group's false positives and false negatives before and after.
    """

    def __init__(
        self,
        loss: Loss,
        *,
        alpha: float = 0.0,
        min_group_rows: int = 1,
        repair_alpha: float = 0.0,
        decision_split: str = "holdout",
        acceptance_test: AcceptanceTest = AcceptanceTest.THRESHOLD,
        confidence: float = 0.95,
        planned_submissions: int = 1000,
        guard_split: str | None = None,
        pos_label: int | None = None,
    ) -> None:
        self.loss = loss
        self.alpha = alpha
        self.min_group_rows = min_group_rows
        self.repair_alpha = repair_alpha
        self.decision_split = decision_split
        self.acceptance_test = acceptance_test
        self.confidence = confidence
        self.planned_submissions = planned_submissions
        self.guard_split = guard_split
        self.pos_label = pos_label

    def fit(self, y: Mapping[str, Array], base_predictions: Mapping[str, Array]) -> BountyEvaluator:
        """Start from the base model f0: ``y`` and ``base_predictions`` per split, encoded."""
        if not (0 <= self.alpha < np.inf and 0 <= self.repair_alpha < np.inf):
            raise EngineError("alpha and repair_alpha must be non-negative numbers")
        if self.min_group_rows < 1:
            raise EngineError("min_group_rows must be at least 1")
        if self.guard_split is not None and (
            self.guard_split not in y or self.guard_split == self.decision_split
        ):
            raise EngineError(
                f"the guard split {self.guard_split!r} must be a tracked shadow split"
            )
        if self.pos_label is not None and self.loss.task is not Task.CLASSIFICATION:
            raise EngineError("pos_label applies to classification rounds only")
        self.spending_ = Spending(self.confidence, self.planned_submissions)
        self.tested_ = 0  # pairs that have drawn on the error budget, in decision order
        if self.decision_split not in y or set(y) != set(base_predictions):
            raise EngineError(
                f"labels and base predictions must be given for the same splits, "
                f"including the decision split {self.decision_split!r}"
            )
        self.splits_: dict[str, _SplitState] = {
            name: self._split_state(name, labels, base_predictions[name])
            for name, labels in y.items()
        }
        n = self._decision.n
        self._alpha_units = decimal_units(self.alpha) * n
        # Loss differences are whole units: "> the threshold" is "> its floor" (an int compares
        # much faster than a Fraction), and whole ticks of 2**SCALE_BITS units likewise.
        repair_units = math.floor(decimal_units(self.repair_alpha) * n)
        counts = self.loss.kind is LossKind.ZERO_ONE  # per-row losses 0 or 1: int64 ticks
        self.accepted_ = AcceptedGroups(
            list(self.splits_),
            counts=counts,
            repair_ticks=repair_units >> SCALE_BITS if counts else repair_units,
        )
        self._accepted_keys: set[str] = set()
        self.memberships_ = {name: Membership(state.n) for name, state in self.splits_.items()}
        zero = dict.fromkeys(self.splits_, 0.0)
        self.versions_: list[VersionInfo] = [
            VersionInfo(0, "base", None, None, self._mean_loss(), zero, zero)
        ]
        return self

    def _split_state(self, name: str, labels: Array, base: Array) -> _SplitState:
        labels, pred = self._encoded(labels), self._encoded(base)
        if pred.shape != labels.shape or labels.ndim != 1 or len(labels) == 0:
            raise EngineError(
                f"split {name!r}: labels and predictions must be non-empty 1-D arrays"
            )
        row_loss = self.loss(pred, labels)
        if not np.isfinite(row_loss).all():
            raise EngineError(f"split {name!r}: labels and base predictions must be finite")
        return _SplitState(
            labels,
            pred.copy(),
            row_loss,
            self._units(row_loss),
            row_loss.copy(),
            np.zeros(len(labels), dtype=np.intp),
        )

    def _encoded(self, values: Array) -> Array:
        values = np.asarray(values)
        if self.loss.task is Task.REGRESSION:
            return values.astype(np.float64)
        if values.dtype.kind not in "iu":
            raise EngineError("classification labels and predictions must be integer class codes")
        return values

    def _units(self, row_loss: FloatArray) -> int:
        """Exact sum of per-row losses; 0-1 losses are small integers and sum exactly as floats."""
        if self.loss.kind is LossKind.ZERO_ONE:
            return int(row_loss.sum()) << SCALE_BITS
        return exact_sum(row_loss)

    @property
    def head_version(self) -> int:
        """The newest version (0 is the base model)."""
        return len(self.versions_) - 1

    @property
    def _decision(self) -> _SplitState:
        return self.splits_[self.decision_split]

    def head_predictions(self, split: str | None = None) -> Array:
        """The head's encoded predictions on a split: a read-only view that later decisions
        update in place (copy it to keep a version)."""
        view = self.splits_[split or self.decision_split].pred.view()
        view.flags.writeable = False
        return view

    def head_loss(self, split: str | None = None) -> float:
        """The head version's mean loss on a split."""
        state = self.splits_[split or self.decision_split]
        return to_float(state.loss_units, state.n)

    def decide(
        self,
        key: str,
        outputs: Mapping[str, PairOutput],
        *,
        tested_before: int | None = None,
        release: bool = False,
    ) -> Decision:
        """Decide one pair, given g's mask and h's predictions on every tracked split.

        ``tested_before`` is how many of the round's pairs were tested before this one (the
        pairs with valid outputs, accepted or rejected), which sets this pair's significance
        level; by default, those this evaluator decided. Callers that share a round between
        processes count them where the verdicts are stored. ``release`` waives the guard.

        A key that was already accepted is a caller error (``EngineError``): keys identify
        submissions, and one submission is decided once.
        """
        if tested_before is not None:
            if tested_before < 0:
                raise EngineError("tested_before must not be negative")
            self.tested_ = tested_before
        if key in self._accepted_keys:
            raise EngineError(f"a pair with key {key!r} was already accepted")
        try:
            checked = {name: self._check_output(name, outputs) for name in self.splits_}
        except PredictionError as exc:
            return Decision.invalid(key, str(exc))
        sums = {name: self._pair_units(rows) for name, rows in checked.items()}
        stats = {name: self._stats(name, checked[name], *sums[name]) for name in checked}
        loss_before = self._mean_loss()
        self.tested_ += 1
        main, rows = stats[self.decision_split], checked[self.decision_split]
        verdict = self._verdict(main, *sums[self.decision_split])
        test = None
        if verdict is None and self.acceptance_test is AcceptanceTest.SIGNIFICANCE:
            test = self._test(rows)
            verdict = self._significance_verdict(test)
        if verdict is None and self.guard_split is not None and not release:
            verdict = self._guard(self.guard_split, checked[self.guard_split])
        if verdict is not None:
            reason, message = verdict
            return Decision(
                key,
                Outcome.REJECTED,
                reason,
                message,
                stats,
                None,
                (),
                loss_before,
                loss_before,
                test,
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
            test,
        )

    def _test(self, rows: _Rows) -> SignificanceResult:
        """The paired test of h against the head on the group's decision-split rows."""
        index = self.tested_
        return paired_test(
            self.loss.kind,
            rows.head_loss,
            rows.loss,
            index=index,
            level=self.spending_.level(index),
        )

    def _guard(self, split: str, rows: _Rows) -> tuple[Reason, str] | None:
        """Hold the pair if, on ``split``, it is worse beyond its 95% interval, or the head
        would end worse than the base model beyond its interval."""
        state = self.splits_[split]
        step = rows.head_loss - rows.loss
        change = float(step.sum())
        if change / state.n + Z_95 * _mean_se(change, _squares(step), state.n) < 0:
            return Reason.HELD_FOR_REVIEW, (
                f"held for review: on the {split} split the pair makes the model worse beyond "
                f"its 95% interval"
            )
        old_gain = state.base_loss[rows.idx] - rows.head_loss
        new_gain = state.base_loss[rows.idx] - rows.loss
        total = state.gain_sum + float(new_gain.sum() - old_gain.sum())
        squares = state.gain_squares + _squares(new_gain) - _squares(old_gain)
        if total / state.n + Z_95 * _mean_se(total, squares, state.n) < 0:
            return Reason.HELD_FOR_REVIEW, (
                f"held for review: with the pair, the model would be worse than the base model "
                f"on the {split} split beyond its 95% interval"
            )
        return None

    def _significance_verdict(self, test: SignificanceResult) -> tuple[Reason, str] | None:
        if test.significant:
            return None
        return Reason.NOT_SIGNIFICANT, (
            f"the improvement is not significant: p = {test.p_value:.3g} is above this "
            f"pair's level {test.level:.3g} (test {test.index} of the round, confidence "
            f"{self.confidence:g})"
        )

    def _check_output(self, name: str, outputs: Mapping[str, PairOutput]) -> _Rows:
        if name not in outputs:
            raise PredictionError(f"no output for split {name!r}")
        out = outputs[name]
        mask = np.asarray(out.mask)
        state = self.splits_[name]
        if mask.dtype != np.bool_ or mask.shape != (state.n,):
            raise PredictionError(
                f"the group must give one true/false value for each of {state.n} rows"
            )
        idx = np.flatnonzero(mask)
        q = np.asarray(out.predictions)
        if q.shape != idx.shape:
            raise PredictionError(
                f"the model must give one prediction for each of the group's {len(idx)} rows, "
                f"got shape {q.shape}"
            )
        if self.loss.task is Task.CLASSIFICATION and q.dtype.kind not in "iu":
            raise PredictionError("classification predictions must be encoded class codes")
        if self.loss.task is Task.REGRESSION and q.dtype.kind != "f":
            raise PredictionError("regression predictions must be numbers")
        loss = self.loss(q, state.y[idx])
        if not np.isfinite(loss).all():
            raise PredictionError("predictions must be finite numbers of a representable loss")
        return _Rows(idx, q, loss, state.row_loss[idx])

    def _pair_units(self, rows: _Rows) -> tuple[int, int]:
        """Exact group loss of the head and of h on the pair's rows of a split."""
        return self._units(rows.head_loss), self._units(rows.loss)

    def _stats(self, name: str, rows: _Rows, before: int, after: int) -> PairStats:
        state = self.splits_[name]
        n_group = len(rows.idx)
        diff = rows.head_loss - rows.loss
        return PairStats(
            n_rows=state.n,
            n_group=n_group,
            group_loss_before=to_float(before, n_group) if n_group else None,
            group_loss_after=to_float(after, n_group) if n_group else None,
            score=to_float(before - after, state.n),
            loss_before=to_float(state.loss_units, state.n),
            score_se=_mean_se(float(diff.sum()), _squares(diff), state.n),
            **self._rates(state, rows),
        )

    def _rates(self, state: _SplitState, rows: _Rows) -> dict[str, ErrorRates]:
        if self.pos_label is None:
            return {}
        truth = state.y[rows.idx]
        return {
            "rates_before": ErrorRates.of(truth, state.pred[rows.idx], self.pos_label),
            "rates_after": ErrorRates.of(truth, rows.values, self.pos_label),
        }

    def _verdict(self, stats: PairStats, before: int, after: int) -> tuple[Reason, str] | None:
        if stats.n_group < self.min_group_rows:
            return Reason.GROUP_TOO_SMALL, (
                f"the group has {stats.n_group} rows on the {self.decision_split}; "
                f"at least {self.min_group_rows} are required"
            )
        if before - after <= 0:
            return Reason.NO_IMPROVEMENT, "the model does not improve on the group"
        if before - after < self._alpha_units:
            return Reason.BELOW_THRESHOLD, (
                f"the improvement {stats.score:.6g} is below the round's threshold {self.alpha:g}"
            )
        return None

    def _accept(self, key: str, outputs: Mapping[str, _Rows]) -> int:
        rows = {name: out.idx for name, out in outputs.items()}
        self._set_rows(
            rows,
            {name: out.values for name, out in outputs.items()},
            {name: out.loss for name, out in outputs.items()},
        )
        version = self._new_version("patch", key, None)
        decision_rows = rows[self.decision_split]
        position = self.accepted_.add(
            key,
            rows,
            len(decision_rows),
            self._ticks(self._decision.row_loss[decision_rows]),
            version,
        )
        self._accepted_keys.add(key)
        for name, index in self.memberships_.items():
            index.add(position, rows[name])
        return version

    def _repair(self) -> list[Repair]:
        groups = self.accepted_
        repairs: list[Repair] = []
        # The earliest accepted group that breaks the rule is repaired first.
        while (pos := groups.first_violating()) is not None:
            before, target = groups.units(groups.current[pos]), int(groups.best_version[pos])
            rows, preds = {}, {}
            for name in self.splits_:
                rows[name], preds[name] = groups.best_predictions(name, pos)
            self._set_rows(rows, preds)
            version = self._new_version("pointer", groups.keys[pos], target)
            after, n_j = groups.units(groups.current[pos]), int(groups.n_rows[pos])
            repairs.append(
                Repair(
                    version,
                    groups.keys[pos],
                    target,
                    to_float(before, n_j),
                    to_float(after, n_j),
                    to_float(before - after, n_j),
                )
            )
        return repairs

    def _set_rows(
        self,
        rows: Mapping[str, IntArray],
        preds: Mapping[str, Array],
        losses: Mapping[str, FloatArray] | None = None,
    ) -> None:
        """Write predictions on rows of every split as the next version, touching only the
        rows whose prediction changes; keep the running sums and every accepted group's loss
        and best up to date. ``losses`` are the new predictions' per-row losses where the
        caller has them."""
        moved = None
        for name, state in self.splits_.items():
            idx, new = rows[name], preds[name]
            old = state.pred[idx]
            differs = _differs(old, new)
            if not differs.any():
                state.step_se = 0.0  # the version changes nothing on this split
                continue
            idx, new, old = idx[differs], new[differs], old[differs]
            new_loss = losses[name][differs] if losses else self.loss(new, state.y[idx])
            old_loss = state.row_loss[idx]
            step = old_loss - new_loss
            self._update_sums(state, idx, old_loss, new_loss, step)
            places, positions = self._save_best(name, idx, old, state)
            state.pred[idx] = new
            state.row_loss[idx] = new_loss
            if name == self.decision_split:
                moved = self._group_deltas(positions, places, old_loss, new_loss, step)
        # After every split is written: a new best changes which later writes save rows.
        if moved is not None:
            self.accepted_.move(*moved, version=len(self.versions_))

    def _save_best(
        self, split: str, rows: IntArray, old: Array, state: _SplitState
    ) -> tuple[IntArray, npt.NDArray[np.int64]]:
        """Before ``rows`` of ``split`` are written, save their predictions ``old`` in each
        accepted group holding them for which this is the first write since its best version;
        return the (place in ``rows``, group position) pairs of those memberships."""
        places, positions = self.memberships_[split].memberships(rows)
        # Gathered through the written rows' own small arrays, not the split's n-row ones.
        first = state.written_at[rows][places] <= self.accepted_.best_version[positions]
        if first.any():
            places_first = places[first]
            self.accepted_.save(split, rows[places_first], positions[first], old[places_first])
        state.written_at[rows] = len(self.versions_)  # the version these writes make
        return places, positions

    def _update_sums(
        self,
        state: _SplitState,
        idx: IntArray,
        old_loss: FloatArray,
        new_loss: FloatArray,
        step: FloatArray,
    ) -> None:
        """The split's exact loss, and the running sums behind its standard errors (``step``
        is ``old_loss - new_loss``)."""
        step_sum = float(step.sum())
        base = state.base_loss[idx]
        if self.accepted_.counts:
            # 0-1 losses: every sum below is of small integers, exact in any order, so cheaper
            # passes give the same floats: a step or gain is -1, 0 or 1, its square 0 or 1,
            # and the gains' change is the step.
            state.step_se = _mean_se(step_sum, int(np.count_nonzero(step)), state.n)
            state.gain_sum += step_sum
            state.gain_squares += np.count_nonzero(base != new_loss) - np.count_nonzero(
                base != old_loss
            )
            state.loss_units -= int(step_sum) << SCALE_BITS
            return
        state.step_se = _mean_se(step_sum, _squares(step), state.n)
        old_gain, new_gain = base - old_loss, base - new_loss
        state.gain_sum += float(new_gain.sum() - old_gain.sum())
        state.gain_squares += _squares(new_gain) - _squares(old_gain)
        state.loss_units += self._units(new_loss) - self._units(old_loss)

    def _group_deltas(
        self,
        positions: npt.NDArray[np.int64],
        places: IntArray,
        old_loss: FloatArray,
        new_loss: FloatArray,
        step: FloatArray,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.generic]]:
        """The groups whose exact loss changed, from the memberships (``places`` in the written
        rows, group ``positions``) and the rows' old and new losses on the decision split
        (``step`` = old - new); with the changes in ticks (``AcceptedGroups``)."""
        if not len(positions):
            return positions, self.accepted_.current[:0]
        if self.accepted_.counts:
            # 0-1 losses are small integers: their float sums are exact.
            fall = np.bincount(positions, weights=step[places])
            moved = np.flatnonzero(fall)
            return moved, -fall[moved].astype(np.int64)
        count = len(self.accepted_)
        after = exact_sums_by(new_loss[places], positions, count)
        before = exact_sums_by(old_loss[places], positions, count)
        moved_list = [pos for pos in range(count) if after[pos] != before[pos]]
        deltas = np.empty(len(moved_list), dtype=object)
        deltas[:] = [after[pos] - before[pos] for pos in moved_list]
        return np.array(moved_list, dtype=np.int64), deltas

    def _ticks(self, row_loss: FloatArray) -> int:
        """The exact sum of per-row losses in the accepted groups' ticks."""
        return int(row_loss.sum()) if self.accepted_.counts else exact_sum(row_loss)

    def _new_version(self, kind: Literal["patch", "pointer"], key: str, target: int | None) -> int:
        version = len(self.versions_)
        self.versions_.append(
            VersionInfo(
                version,
                kind,
                key,
                target,
                self._mean_loss(),
                {name: st.step_se for name, st in self.splits_.items()},
                {
                    name: _mean_se(st.gain_sum, st.gain_squares, st.n)
                    for name, st in self.splits_.items()
                },
            )
        )
        return version

    def _mean_loss(self) -> dict[str, float]:
        return {name: to_float(s.loss_units, s.n) for name, s in self.splits_.items()}

    @property
    def groups_(self) -> list[AcceptedGroup]:
        """The accepted groups, in acceptance order, as they stand."""
        return [self.accepted_.snapshot(pos) for pos in range(len(self.accepted_))]

    def group_loss(self, group: AcceptedGroup) -> tuple[float, float]:
        """A group's current and best mean loss on the decision split."""
        return to_float(group.loss_units, group.n_rows), to_float(group.best_units, group.n_rows)


def _differs(old: Array, new: Array) -> BoolArray:
    """Where ``new`` differs from ``old``: bit for bit for floats (so -0.0 replaces 0.0)."""
    if old.dtype.kind == "f":
        return np.asarray(old.view(np.int64) != new.astype(np.float64).view(np.int64))
    return np.asarray(old != new)


def _squares(values: FloatArray) -> float:
    """The sum of squares, without BLAS: its threads stall on a busy machine (a 10^4-row dot
    product took 20 ms with the other core loaded), and its order of summation is the
    machine's."""
    return float(np.einsum("i,i->", values, values))


def _mean_se(total: float, squares: float, n: int) -> float:
    """The standard error of a mean over ``n`` rows from the sum and sum of squares."""
    if n < 2:
        return 0.0
    variance = max(squares - total * total / n, 0.0) / (n - 1)
    return math.sqrt(variance / n)


def replay(
    evaluator: BountyEvaluator,
    y: Mapping[str, Array],
    base_predictions: Mapping[str, Array],
    pairs: Iterable[tuple[str, Mapping[str, PairOutput]]],
) -> list[Decision]:
    """Refit ``evaluator`` from f0 and decide ``pairs`` in order; returns the decisions."""
    evaluator.fit(y, base_predictions)
    return [evaluator.decide(key, outputs) for key, outputs in pairs]
