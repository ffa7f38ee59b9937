"""The significance rule: its tests against scipy, its error budget, and its false-accept rate on
planted noise (a statistical check with a fixed seed, which the threshold rule fails)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from bounty_engine.decision import BountyEvaluator, PairOutput, Reason
from bounty_engine.errors import EngineError
from bounty_engine.losses import Loss, LossKind
from bounty_engine.significance import AcceptanceTest, PairedMethod, Spending, paired_test

SIGNIFICANCE = AcceptanceTest.SIGNIFICANCE


def test_levels_spend_exactly_the_budget() -> None:
    spending = Spending(confidence=0.95, planned=200)
    levels = np.array([spending.level(k) for k in range(1, 100_001)])
    assert np.all(np.diff(levels) < 0)
    assert levels[0] == pytest.approx(0.05 / 201)
    assert levels[199] == pytest.approx(0.05 * 200 / (399 * 400))  # the last planned one
    # The sum telescopes: delta * K / (N + K) after K tests, delta in the limit.
    assert levels.sum() == pytest.approx(0.05 * 100_000 / 100_200, rel=1e-9)
    assert levels.sum() < 0.05


@pytest.mark.parametrize(
    ("confidence", "planned", "index"), [(1.0, 10, 1), (0.0, 10, 1), (0.9, 0, 1), (0.9, 10, 0)]
)
def test_spending_refuses_impossible_settings(confidence: float, planned: int, index: int) -> None:
    with pytest.raises(EngineError):
        Spending(confidence, planned).level(index)


def test_the_sign_test_is_the_exact_binomial_test_on_discordant_rows() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        before = rng.integers(0, 2, 200).astype(np.float64)
        after = rng.integers(0, 2, 200).astype(np.float64)
        wins, losses = int((before > after).sum()), int((before < after).sum())
        result = paired_test(LossKind.ZERO_ONE, before, after, index=1, level=0.01)
        want = stats.binomtest(wins, wins + losses, 0.5, alternative="greater").pvalue
        assert result.method is PairedMethod.SIGN
        assert result.p_value == pytest.approx(want, rel=1e-9)
        # The bound is below the observed mean difference, and above 0 iff significant.
        assert result.lower_bound <= (wins - losses) / 200
        assert (result.lower_bound > 0) == result.significant


def test_the_t_test_is_the_paired_one_sided_t_test() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        before = rng.exponential(1.0, 80)
        after = before - rng.normal(0.1, 1.0, 80)
        result = paired_test(LossKind.SQUARED, before, after, index=3, level=0.001)
        want = stats.ttest_rel(before, after, alternative="greater")
        assert result.method is PairedMethod.T
        assert result.p_value == pytest.approx(want.pvalue, rel=1e-9)
        assert (result.lower_bound > 0) == result.significant


def test_degenerate_groups_are_never_significant_by_accident() -> None:
    same = np.ones(40)
    assert paired_test(LossKind.ZERO_ONE, same, same, index=1, level=0.5).p_value == 1.0
    assert not paired_test(
        LossKind.ABSOLUTE, same[:1], same[:1] - 5, index=1, level=0.5
    ).significant
    constant = paired_test(LossKind.ABSOLUTE, same, same - 0.5, index=1, level=1e-9)
    assert (constant.p_value, constant.lower_bound) == (0.0, 0.5)


def _noise_round(
    rng: np.random.Generator, test: AcceptanceTest, n: int, pairs: int
) -> tuple[int, int]:
    """A round of pure-noise pairs: each h errs on its group's rows independently at the
    current model's own error rate there, so no pair truly improves its group. Returns
    (accepted, tested)."""
    y = rng.integers(0, 2, n)
    base = np.where(rng.random(n) < 0.3, 1 - y, y)
    ev = BountyEvaluator(
        Loss(), alpha=0.002, min_group_rows=30, acceptance_test=test, planned_submissions=pairs
    ).fit({"holdout": y}, {"holdout": base})
    accepted = 0
    for i in range(pairs):
        mask = rng.random(n) < rng.uniform(0.03, 0.3)
        head = ev.head_predictions()[mask]
        wrong_rate = float((head != y[mask]).mean()) if mask.any() else 0.0
        h = np.where(rng.random(int(mask.sum())) < wrong_rate, 1 - y[mask], y[mask])
        accepted += ev.decide(f"p{i}", {"holdout": PairOutput(mask, h)}).accepted
    return accepted, ev.tested_


def test_noise_is_accepted_at_most_at_the_rounds_error_rate() -> None:
    """Each round submits 100 noise pairs to a 1,000-row holdout (alpha 0.002, 30 rows at
    least). With the significance rule, the share of rounds that accept any noise must be
    within what a 5% family-wise rate allows (a binomial bound: the check can fail); the fixed
    threshold accepts noise in nearly every round."""
    rng = np.random.default_rng(20261206)
    rounds = 150
    significance = [_noise_round(rng, SIGNIFICANCE, 1000, 100) for _ in range(rounds)]
    threshold = [_noise_round(rng, AcceptanceTest.THRESHOLD, 1000, 100) for _ in range(rounds)]
    assert all(tested == 100 for _, tested in significance)
    rounds_with_noise = sum(accepted > 0 for accepted, _ in significance)
    # P(Binomial(150, 0.05) > 15) < 0.2%: a true 5% rate essentially never gets past 15.
    assert rounds_with_noise <= stats.binom.ppf(0.998, rounds, 0.05)
    assert sum(accepted > 0 for accepted, _ in threshold) >= 0.9 * rounds
    assert sum(a for a, _ in threshold) > 20 * max(1, sum(a for a, _ in significance))


def test_a_real_improvement_on_a_modest_group_is_accepted() -> None:
    """200 group rows where h fixes half of the model's errors (about 40 rows) and makes no
    new ones: far beyond the first level (p about 2**-40)."""
    rng = np.random.default_rng(2)
    n = 2000
    y = rng.integers(0, 2, n)
    mask = np.zeros(n, dtype=bool)
    mask[:200] = True
    base = np.where(rng.random(n) < np.where(mask, 0.4, 0.2), 1 - y, y)
    h = np.where((base[:200] != y[:200]) & (rng.random(200) < 0.5), 1 - y[:200], y[:200])
    h = np.where(base[:200] == y[:200], y[:200], h)
    ev = BountyEvaluator(Loss(), acceptance_test=SIGNIFICANCE).fit(
        {"holdout": y}, {"holdout": base}
    )
    decision = ev.decide("real", {"holdout": PairOutput(mask, h)})
    assert decision.accepted, decision.message
    assert decision.test is not None
    assert decision.test.p_value < decision.test.level
    assert decision.test.lower_bound > 0


def test_not_significant_comes_after_the_threshold_and_uses_the_pairs_place() -> None:
    n = 400
    y = np.zeros(n, dtype=np.int64)
    base = np.zeros(n, dtype=np.int64)
    base[:12] = 1  # the model is wrong on 12 rows
    mask = np.zeros(n, dtype=bool)
    mask[:40] = True
    h = np.zeros(40, dtype=np.int64)  # h fixes the 12 rows: sign test p = 2**-12
    pair = {"holdout": PairOutput(mask, h)}
    ev = BountyEvaluator(
        Loss(), alpha=0.01, min_group_rows=30, acceptance_test=SIGNIFICANCE, planned_submissions=10
    ).fit({"holdout": y}, {"holdout": base})
    assert ev.decide(
        "small", {"holdout": PairOutput(mask & (np.arange(n) < 20), h[:20])}
    ).reason is (Reason.GROUP_TOO_SMALL)
    # As the 10,000th test of the round, the level is far below 2**-12.
    late = ev.decide("late", pair, tested_before=9_999)
    assert late.reason is Reason.NOT_SIGNIFICANT
    assert late.test is not None
    assert (late.test.index, late.test.p_value) == (10_000, 2.0**-12)
    assert late.test.level == Spending(planned=10).level(10_000)
    # As the second test, it passes; the evaluator then counts on from there.
    early = ev.decide("early", pair, tested_before=1)
    assert early.accepted
    assert early.test is not None
    assert early.test.index == 2
    assert ev.tested_ == 2
    # A threshold round never tests.
    plain = BountyEvaluator(Loss(), alpha=0.01).fit({"holdout": y}, {"holdout": base})
    assert plain.decide("plain", pair).test is None


def test_standard_errors_describe_the_change_on_each_split() -> None:
    rng = np.random.default_rng(3)
    n = 500
    y = {s: rng.integers(0, 2, n) for s in ("holdout", "test")}
    base = {s: np.where(rng.random(n) < 0.3, 1 - y[s], y[s]) for s in y}
    mask = np.arange(n) < 100
    ev = BountyEvaluator(Loss()).fit(y, base)
    decision = ev.decide("fix", {s: PairOutput(mask, y[s][:100]) for s in y})
    for split in y:
        diff = np.zeros(n)
        diff[:100] = (base[split][:100] != y[split][:100]).astype(float)
        want = diff.std(ddof=1) / math.sqrt(n)
        assert decision.stats[split].score_se == pytest.approx(want, rel=1e-12)
        version = ev.versions_[-1]
        assert version.step_se[split] == pytest.approx(want, rel=1e-12)
        assert version.base_se[split] == pytest.approx(want, rel=1e-12)
    assert ev.versions_[0].base_se == {"holdout": 0.0, "test": 0.0}


def test_the_test_split_guard_holds_a_pair_that_hurts_on_test_until_released() -> None:
    """h is right on its group's holdout rows and wrong on its test rows: accepted without the
    guard, held with it, accepted when released; a pair that helps on test passes the guard."""
    n = 400
    y = {s: np.zeros(n, dtype=np.int64) for s in ("holdout", "test")}
    base = {s: np.zeros(n, dtype=np.int64) for s in y}
    base["holdout"][:100] = 1  # wrong on the group's holdout rows, right on its test rows
    mask = np.arange(n) < 100
    harmful = {s: PairOutput(mask, np.zeros(100, dtype=np.int64) + (s == "test")) for s in y}
    helpful = {s: PairOutput(mask, np.zeros(100, dtype=np.int64)) for s in y}

    def evaluator(guard: str | None) -> BountyEvaluator:
        return BountyEvaluator(Loss(), acceptance_test=SIGNIFICANCE, guard_split=guard).fit(y, base)

    assert evaluator(None).decide("p", harmful).accepted
    held = evaluator("test").decide("p", harmful)
    assert (held.outcome.value, held.reason) == ("rejected", Reason.HELD_FOR_REVIEW)
    assert held.test is not None
    assert held.test.significant  # it passed on the holdout
    assert held.stats["test"].score == -0.25
    guarded = evaluator("test")
    assert guarded.decide("p", harmful, release=True).accepted
    assert evaluator("test").decide("q", helpful).accepted
    with pytest.raises(EngineError, match="shadow split"):
        BountyEvaluator(Loss(), guard_split="holdout").fit(y, base)
