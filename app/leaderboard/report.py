"""The closing report: base vs final model on the holdout and the sealed test split, each team's
contribution replayed on test (the private leaderboard), per-group losses, and every version's
change on both splits. Test-split changes carry 95% intervals (docs/acceptance.md, "What the
figures mean on fresh data"): a change whose interval lies below zero made the model worse on
data no decision saw."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.rounds.models import ModelVersion, Round
from app.submissions.models import Submission
from app.submissions.verdict_record import StoredVerdict
from app.teams.models import Team
from bounty_engine.significance import Z_95


class Interval(BaseModel):
    """A 95% confidence interval (normal approximation, from the per-row loss differences)."""

    low: float = Field(examples=[0.0211])
    high: float = Field(examples=[0.0477])

    @classmethod
    def around(cls, value: float | None, se: float | None) -> Interval | None:
        """``value`` plus or minus 1.96 standard errors (None if either is unknown)."""
        if value is None or se is None:
            return None
        return cls(low=value - Z_95 * se, high=value + Z_95 * se)


class SplitLoss(BaseModel):
    """Mean loss of the base and of the final model on one split."""

    base: float | None = Field(examples=[0.1523])
    final: float | None = Field(examples=[0.1098])
    improvement: float | None = Field(examples=[0.0425])
    improvement_interval: Interval | None = Field(
        default=None, description="95% interval of the improvement as an estimate on new data."
    )


class TeamContribution(BaseModel):
    """A team's credited improvement on the holdout, and the same pairs measured on test."""

    team_id: int = Field(examples=[7])
    team: str = Field(examples=["Fairness Hunters"])
    accepted: int = Field(examples=[2])
    holdout_improvement: float = Field(examples=[0.0425])
    test_improvement: float | None = Field(examples=[0.0344])


class GroupLoss(BaseModel):
    """An accepted group's loss before and after its patch, on holdout and test."""

    submission_id: int = Field(examples=[42])
    team: str = Field(examples=["Fairness Hunters"])
    group: str = Field(examples=['sex == "Female" and age >= 50'])
    holdout_before: float | None = Field(examples=[0.2136])
    holdout_after: float | None = Field(examples=[0.1432])
    test_before: float | None = Field(examples=[0.2201])
    test_after: float | None = Field(examples=[0.1538])
    holdout_score: float | None = Field(
        default=None,
        description="The pair's score on the holdout (what accepted it).",
        examples=[0.0073],
    )
    test_score: float | None = Field(
        default=None, description="The same score on the sealed test split.", examples=[0.0061]
    )
    test_score_interval: Interval | None = Field(default=None)
    worse_on_test: bool | None = Field(
        default=None,
        description="Whether the pair made the model worse on test beyond its 95% interval.",
        examples=[False],
    )


class VersionChange(BaseModel):
    """One model version: what its node changed on the holdout and on the sealed test split."""

    version: int = Field(examples=[3])
    kind: str = Field(description="base, patch or pointer.", examples=["patch"])
    submission_id: int | None = Field(examples=[42])
    holdout_loss: float = Field(examples=[0.1431])
    test_loss: float | None = Field(examples=[0.1502])
    holdout_change: float | None = Field(
        description="Loss of the previous version minus this one's, on the holdout (positive: "
        "better).",
        examples=[0.0073],
    )
    test_change: float | None = Field(examples=[0.0061])
    test_change_interval: Interval | None = Field(default=None)


class ClosingReport(BaseModel):
    """What the round achieved, and how much of it holds on data no decision ever saw."""

    status: str = Field(examples=["closed"])
    head_version: int = Field(examples=[4])
    holdout: SplitLoss
    test: SplitLoss
    overfitting_gap: float | None = Field(
        description="Holdout improvement minus test improvement: how much of the gain came "
        "from adapting to the holdout.",
        examples=[0.0081],
    )
    teams: list[TeamContribution]
    groups: list[GroupLoss]
    versions: list[VersionChange]


def _split(base: float | None, final: float | None, se: float | None) -> SplitLoss:
    gain = _difference(base, final)
    return SplitLoss(
        base=base, final=final, improvement=gain, improvement_interval=Interval.around(gain, se)
    )


def _se(version: ModelVersion, since: str, split: str) -> float | None:
    """A version's standard error of its change since the previous version or the base."""
    return ((version.standard_errors or {}).get(since) or {}).get(split)


def _difference(first: float | None, second: float | None) -> float | None:
    """``first - second``, or None if either is unknown."""
    return first - second if first is not None and second is not None else None


def _version_changes(versions: Sequence[ModelVersion]) -> list[VersionChange]:
    return [
        VersionChange(
            version=v.version,
            kind=v.kind,
            submission_id=v.submission_id,
            holdout_loss=v.holdout_loss,
            test_loss=v.test_loss,
            holdout_change=_difference(prev.holdout_loss, v.holdout_loss),
            test_change=(change := _difference(prev.test_loss, v.test_loss)),
            test_change_interval=Interval.around(change, _se(v, "step", "test")),
        )
        for prev, v in pairwise(versions)
    ]


def _private_rank(team: TeamContribution) -> float:
    """Rank by the improvement on test, which no decision saw (holdout if there is no test)."""
    gain = team.test_improvement
    return -(gain if gain is not None else team.holdout_improvement)


def closing_report(session: Session, round_: Round) -> ClosingReport:
    """The report as of now (final once the round is closed)."""
    versions = session.scalars(
        select(ModelVersion)
        .where(ModelVersion.round_id == round_.id)
        .order_by(ModelVersion.version)
    ).all()
    if versions:
        base, head = versions[0], versions[-1]
        holdout = _split(base.holdout_loss, head.holdout_loss, _se(head, "base", "holdout"))
        test = _split(base.test_loss, head.test_loss, _se(head, "base", "test"))
    else:
        holdout = test = _split(None, None, None)
    rows = session.execute(
        select(Submission, Team.name)
        .join(Team, Team.id == Submission.team_id)
        .where(Submission.round_id == round_.id, Submission.outcome == "accepted")
        .order_by(Submission.id)
    ).all()
    per_team: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"name": "", "n": 0, "holdout": 0.0, "test": 0.0, "has_test": False}
    )
    groups = []
    for sub, team_name in rows:
        entry = per_team[sub.team_id]
        entry["name"] = team_name
        entry["n"] += 1
        entry["holdout"] += sub.score or 0.0
        stored = StoredVerdict.of(sub)
        on_holdout, on_test = stored.split("holdout"), stored.split("test")
        test_score = on_test.score if on_test else None
        if test_score is not None:
            entry["test"] += test_score
            entry["has_test"] = True
        test_interval = Interval.around(test_score, on_test.score_se if on_test else None)
        groups.append(
            GroupLoss(
                submission_id=sub.id,
                team=team_name,
                group=sub.group_expression or "group model",
                holdout_before=on_holdout.group_loss_before if on_holdout else None,
                holdout_after=on_holdout.group_loss_after if on_holdout else None,
                test_before=on_test.group_loss_before if on_test else None,
                test_after=on_test.group_loss_after if on_test else None,
                holdout_score=sub.score,
                test_score=test_score,
                test_score_interval=test_interval,
                worse_on_test=None if test_interval is None else test_interval.high < 0,
            )
        )
    teams = sorted(
        (
            TeamContribution(
                team_id=team_id,
                team=e["name"],
                accepted=e["n"],
                holdout_improvement=e["holdout"],
                test_improvement=e["test"] if e["has_test"] else None,
            )
            for team_id, e in per_team.items()
        ),
        key=lambda t: (
            -(t.test_improvement if t.test_improvement is not None else t.holdout_improvement)
        ),
    )
    gap = _difference(holdout.improvement, test.improvement)
    return ClosingReport(
        status=round_.status,
        head_version=round_.head_version,
        holdout=holdout,
        test=test,
        overfitting_gap=gap,
        teams=teams,
        groups=groups,
        versions=_version_changes(versions),
    )
