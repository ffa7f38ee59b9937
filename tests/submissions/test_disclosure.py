"""What a verdict tells a participant under each disclosure (app/submissions/disclosure.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from app.rounds.disclosure import holdout_mean, step_at_least
from app.rounds.models import Disclosure, Round
from app.submissions.disclosure import HIDDEN_REJECTIONS, NOT_ACCEPTED, holdout_stats, verdict_for
from app.submissions.models import Submission
from app.submissions.schemas import SplitStatsOut, VerdictOut
from app.submissions.verdict_record import StoredStats

N_HOLDOUT = 1000


def _round(disclosure: Disclosure, **rules: Any) -> Round:
    settings = {"loss_kind": "zero_one", "loss_clip": None, "min_group_rows": 30, "alpha": 0.002}
    return Round(disclosure=disclosure, n_holdout=N_HOLDOUT, **{**settings, **rules})


def _shown(raw: dict[str, Any], round_: Round, disclosure: Disclosure) -> SplitStatsOut | None:
    """The holdout statistics of a stored verdict, as ``disclosure`` shows them."""
    return holdout_stats(StoredStats.model_validate(raw), round_, disclosure)


def _stats(n_group: int, errors_before: int, errors_after: int) -> dict[str, Any]:
    return {
        "n_rows": N_HOLDOUT,
        "n_group": n_group,
        "group_loss_before": errors_before / n_group,
        "group_loss_after": errors_after / n_group,
        "score": (errors_before - errors_after) / N_HOLDOUT,
        "loss_before": 0.1,
    }


def _decided(reason: str, holdout: dict[str, Any]) -> Submission:
    outcome = "accepted" if reason == "accepted" else "rejected"
    train = {**holdout, "n_group": 0, "group_loss_before": None, "group_loss_after": None}
    return Submission(
        outcome=outcome,
        reason=reason,
        message=f"engine message for {reason}",
        verdict={"stats": {"holdout": holdout, "train": train}, "repairs": []},
    )


@pytest.mark.parametrize("disclosure", [Disclosure.ROUNDED, Disclosure.NONE])
def test_a_participant_gets_one_reason_for_every_rejection(disclosure: Disclosure) -> None:
    round_ = _round(disclosure)
    views = set()
    for reason in HIDDEN_REJECTIONS:
        shown = verdict_for(_decided(reason, _stats(30, 5, 5)), round_, organizer=False)
        assert shown is not None
        views.add(shown.model_dump_json())
    assert len(views) == 1
    (view,) = (VerdictOut.model_validate_json(v) for v in views)
    assert (view.outcome, view.reason, view.holdout) == ("rejected", NOT_ACCEPTED, None)
    assert "30 rows" in view.message  # the round's minimum, never the group's size


def test_classroom_mode_and_the_organizer_get_the_engine_reasons() -> None:
    for round_, organizer in ((_round(Disclosure.EXACT), False), (_round(Disclosure.NONE), True)):
        for reason in HIDDEN_REJECTIONS:
            shown = verdict_for(_decided(reason, _stats(30, 5, 5)), round_, organizer=organizer)
            assert shown is not None
            assert shown.reason == reason
    organizer_view = verdict_for(
        _decided("no_improvement", _stats(31, 7, 9)), _round(Disclosure.ROUNDED), organizer=True
    )
    assert organizer_view is not None
    assert organizer_view.holdout is not None
    assert organizer_view.holdout.group_loss_after == 9 / 31  # exact, rejected or not
    assert organizer_view.message == "engine message for no_improvement"


@pytest.mark.parametrize("n_group", [30, 31, 97, 412, 2500, 9999])
def test_rounded_group_losses_are_never_exact_error_counts(n_group: int) -> None:
    round_ = _round(Disclosure.ROUNDED)
    counts_behind: dict[float | None, set[int]] = {}
    for errors in range(n_group + 1):
        shown = _shown(_stats(n_group, errors, 0), round_, Disclosure.ROUNDED)
        assert shown is not None
        counts_behind.setdefault(shown.group_loss_before, set()).add(errors)
        assert abs((shown.group_loss_before or 0) - errors / n_group) <= 1 / math.sqrt(n_group)
    # Each shown value stands for at least two error counts: the count is never pinned down.
    assert min(len(counts) for counts in counts_behind.values()) >= 2


def test_rounded_scores_and_sizes_hide_single_rows() -> None:
    round_ = _round(Disclosure.ROUNDED)
    shown = {
        net: _shown(_stats(30, 10, 10 - net), round_, Disclosure.ROUNDED) for net in range(3, 8)
    }
    assert len({s.score for s in shown.values() if s}) < len(shown)  # nets 3..7 rows collide
    sizes = [_shown(_stats(n, 10, 0), round_, Disclosure.ROUNDED) for n in range(30, 40)]
    assert len({s.n_group for s in sizes if s}) < 10  # 30..39 rows collide


def test_exact_and_none_are_what_they_say() -> None:
    raw = _stats(37, 11, 4)
    exact = _shown(raw, _round(Disclosure.EXACT), Disclosure.EXACT)
    assert exact is not None
    assert (exact.n_group, exact.group_loss_before, exact.score) == (37, 11 / 37, 7 / N_HOLDOUT)
    assert _shown(raw, _round(Disclosure.NONE), Disclosure.NONE) is None
    assert holdout_mean(0.1234567, _round(Disclosure.EXACT), Disclosure.EXACT) == 0.1234567
    assert holdout_mean(0.1234567, _round(Disclosure.NONE), Disclosure.NONE) is None


def test_holdout_means_round_to_the_holdouts_sampling_error() -> None:
    round_ = _round(Disclosure.ROUNDED)
    step = step_at_least(1 / (2 * math.sqrt(N_HOLDOUT)))
    assert step * N_HOLDOUT >= 10  # ten holdout rows or more per step on 1,000 rows
    shown = {holdout_mean(errors / N_HOLDOUT, round_, Disclosure.ROUNDED) for errors in range(200)}
    assert len(shown) <= 200 / (step * N_HOLDOUT) + 1


@pytest.mark.parametrize(
    ("spread", "step"), [(0.091, 0.1), (0.05, 0.05), (0.021, 0.05), (2.74, 5.0), (10.1, 20.0)]
)
def test_steps_are_the_next_of_1_2_5(spread: float, step: float) -> None:
    assert step_at_least(spread) == step


def test_clipped_and_unclipped_regression_losses_round_relative_to_their_size() -> None:
    clipped = _round(Disclosure.ROUNDED, loss_kind="squared", loss_clip=4.0)
    raw = {
        "n_rows": N_HOLDOUT,
        "n_group": 100,
        "group_loss_before": 1.2345,
        "group_loss_after": 0.9876,
        "score": 0.02,
    }
    shown = _shown(raw, clipped, Disclosure.ROUNDED)
    assert shown is not None
    assert shown.group_loss_before == 1.2  # step 0.2 = 4 / (2 * sqrt(100))
    unclipped = _round(Disclosure.ROUNDED, loss_kind="squared")
    big = {**raw, "group_loss_before": 1234.5, "group_loss_after": 987.6}
    shown = _shown(big, unclipped, Disclosure.ROUNDED)
    assert shown is not None
    assert shown.group_loss_before == 1200.0  # step 100 >= 1234.5 / (2 * sqrt(100))
