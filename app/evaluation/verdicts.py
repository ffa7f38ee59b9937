"""Writing a decision to the database: the submission's verdict and the new model versions."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.db import utcnow
from app.core.storage import ArtifactStore
from app.rounds.models import ModelVersion
from app.rounds.train_predictions import store_train_predictions
from app.submissions.models import Submission, SubmissionStatus
from app.submissions.verdict_record import (
    StoredRates,
    StoredRepair,
    StoredStats,
    StoredTest,
    StoredVerdict,
)
from bounty_engine.decision import BountyEvaluator, Decision, PairStats, VersionInfo
from bounty_engine.error_rates import ErrorRates
from bounty_engine.significance import SignificanceResult


def record_versions(
    session: Session,
    store: ArtifactStore,
    round_id: int,
    decision: Decision,
    evaluator: BountyEvaluator,
) -> None:
    """Add the versions an accepted decision created (its patch and its repairs); the newest
    keeps the head's predictions on the train split."""
    versions = evaluator.versions_
    first = decision.version if decision.version is not None else len(versions)
    head_sha = store_train_predictions(store, evaluator.head_predictions("train"))
    for info in versions[first:]:
        session.add(
            ModelVersion(
                round_id=round_id,
                version=info.version,
                kind=info.kind,
                submission_id=int(info.group_key) if info.group_key else None,
                target_version=info.target_version,
                holdout_loss=info.loss["holdout"],
                train_loss=info.loss["train"],
                test_loss=info.loss.get("test"),
                standard_errors=_standard_errors(info),
                train_predictions_sha=head_sha if info is versions[-1] else None,
            )
        )


TESTED = ("accepted", "rejected")
"""Outcomes of the pairs that drew on the round's error budget (valid outputs, decided)."""


def tested_before(session: Session, sub: Submission) -> int:
    """How many of the round's pairs were tested before ``sub``: its significance test's
    place in the round (docs/acceptance.md), counted from the stored verdicts so that every
    worker, and every replay, gives the same pair the same level."""
    return (
        session.scalar(
            select(func.count(Submission.id)).where(
                Submission.round_id == sub.round_id,
                Submission.id < sub.id,
                Submission.outcome.in_(TESTED),
            )
        )
        or 0
    )


def _standard_errors(info: VersionInfo) -> dict[str, dict[str, float]]:
    return {"step": dict(info.step_se), "base": dict(info.base_se)}


def _stored_test(test: SignificanceResult | None) -> StoredTest | None:
    if test is None:
        return None
    return StoredTest(
        method=test.method.value,
        index=test.index,
        level=test.level,
        p_value=test.p_value,
        lower_bound=test.lower_bound,
    )


def _stored_stats(stats: PairStats) -> StoredStats:
    return StoredStats(
        n_rows=stats.n_rows,
        n_group=stats.n_group,
        group_loss_before=stats.group_loss_before,
        group_loss_after=stats.group_loss_after,
        score=stats.score,
        score_se=stats.score_se,
        loss_before=stats.loss_before,
        rates_before=_stored_rates(stats.rates_before),
        rates_after=_stored_rates(stats.rates_after),
    )


def _stored_rates(rates: ErrorRates | None) -> StoredRates | None:
    return None if rates is None else StoredRates(**dataclasses.asdict(rates))


def record_verdict(sub: Submission, decision: Decision) -> None:
    """Write the verdict on the submission (holdout score, statistics per split, repairs)."""
    sub.status = SubmissionStatus.DECIDED
    sub.outcome = decision.outcome.value
    sub.reason = decision.reason.value
    sub.message = decision.message
    sub.decided_at = utcnow()
    holdout = decision.stats.get("holdout")
    sub.score = holdout.score if holdout else None
    sub.version = decision.version
    sub.verdict = StoredVerdict(
        stats={split: _stored_stats(s) for split, s in decision.stats.items()},
        repairs=[
            StoredRepair(
                version=r.version,
                submission_id=int(r.group_key),
                target_version=r.target_version,
                group_loss_before=r.group_loss_before,
                group_loss_after=r.group_loss_after,
                group_loss_reduction=r.group_loss_reduction,
            )
            for r in decision.repairs
        ],
        loss_before=decision.loss_before,
        loss_after=decision.loss_after,
        test=_stored_test(decision.test),
    ).to_json()
