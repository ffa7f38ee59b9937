"""The Adult demo: a hand-written group and a gradient-boosting h get accepted."""

from __future__ import annotations

import pytest

from app.demo import DEMO_PAIRS, build_demo_round


def test_adult_demo_accepts_a_gradient_boosting_patch() -> None:
    demo = build_demo_round()
    decisions = demo.round.decisions
    assert len(decisions) == len(DEMO_PAIRS)
    first = decisions[0]
    assert first.accepted, first.message
    assert first.repairs == ()
    holdout = first.stats["holdout"]
    assert holdout.group_loss_after < holdout.group_loss_before
    # The holdout error falls by exactly the reported score.
    assert first.loss_before["holdout"] - first.loss_after["holdout"] == pytest.approx(
        holdout.score, abs=1e-12
    )
    versions = demo.round.evaluator.versions_
    assert versions[-1].loss["holdout"] < versions[0].loss["holdout"]
    assert 0.12 < versions[0].loss["holdout"] < 0.18  # logistic regression on Adult
