"""The closing report: base vs final on holdout and sealed test, the private leaderboard."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.rounds.models import ModelVersion
from app.submissions.models import Submission
from app.worker.runner import Worker
from tests.submissions.conftest import Arena, drain


def test_closing_report_for_the_organizer(arena: Arena, worker: Worker, db: Session) -> None:
    for expression in arena.planted[:2]:
        assert arena.submit(expression, arena.patch_model(expression)).status_code == 202
    drain(worker)
    closed = arena.client.post(
        f"/api/v1/rounds/{arena.slug}/close", headers=arena.organizer.headers
    )
    assert closed.status_code == 200
    url = f"/api/v1/rounds/{arena.slug}/report"
    assert arena.client.get(url).status_code == 401
    assert arena.client.get(url, headers=arena.member.headers).status_code == 403
    report = arena.client.get(url, headers=arena.organizer.headers).json()
    versions = db.scalars(select(ModelVersion).order_by(ModelVersion.version)).all()
    assert report["status"] == "closed"
    assert report["head_version"] == 2
    assert report["holdout"]["base"] == versions[0].holdout_loss
    assert report["holdout"]["final"] == versions[-1].holdout_loss
    assert report["test"]["final"] == versions[-1].test_loss
    # The planted groups are real: the gain holds on the sealed test split.
    assert report["test"]["improvement"] > 0
    assert report["overfitting_gap"] == pytest.approx(
        report["holdout"]["improvement"] - report["test"]["improvement"]
    )
    scores = [s.score for s in db.scalars(select(Submission).order_by(Submission.id))]
    (team,) = report["teams"]
    assert team["accepted"] == 2
    assert team["holdout_improvement"] == pytest.approx(sum(scores))
    assert team["test_improvement"] > 0
    assert [g["group"] for g in report["groups"]] == arena.planted[:2]
    for group in report["groups"]:
        assert group["test_after"] < group["test_before"]

    # Test-split changes come with 95% intervals from the stored standard errors.
    subs = db.scalars(select(Submission).order_by(Submission.id)).all()
    for group, sub in zip(report["groups"], subs, strict=True):
        stats = (sub.verdict or {})["stats"]["test"]
        assert group["holdout_score"] == sub.score
        assert group["test_score"] == stats["score"]
        low, high = group["test_score_interval"]["low"], group["test_score_interval"]["high"]
        assert (high - low) / 2 == pytest.approx(1.959963984540054 * stats["score_se"])
        assert low < stats["score"] < high
        assert group["worse_on_test"] is (high < 0)
    head = versions[-1]
    interval = report["test"]["improvement_interval"]
    half_width = 1.959963984540054 * (head.standard_errors or {})["base"]["test"]
    assert (interval["high"] - interval["low"]) / 2 == pytest.approx(half_width)
    assert [(v["version"], v["kind"], v["submission_id"]) for v in report["versions"]] == [
        (v.version, v.kind, v.submission_id) for v in versions[1:]
    ]
    for change, before, after in zip(report["versions"], versions, versions[1:], strict=False):
        assert change["test_change"] == pytest.approx(before.test_loss - after.test_loss)
        assert change["holdout_change"] == pytest.approx(before.holdout_loss - after.holdout_loss)
        assert change["test_change_interval"]["low"] < change["test_change"]
