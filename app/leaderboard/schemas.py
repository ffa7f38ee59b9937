"""Response bodies of the leaderboard endpoints.

Holdout numbers follow the round's disclosure (docs/disclosure.md): rounded to a step no finer
than their sampling error (``app.submissions.disclosure``), exact, or null; the round's organizer
always sees them exactly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.rounds.models import Disclosure
from app.submissions.schemas import GroupErrorRates, RepairOut

_HOLDOUT = (
    "as the round's disclosure allows: rounded (to a 1-2-5 step no finer than its largest "
    "sampling error, so never an exact count of holdout rows), exact, or null"
)


class BoardMeta(BaseModel):
    """What every insight view says about itself: the round, the numbers shown, the cut-off."""

    round: str = Field(description="The round's slug.", examples=["adult-income-demo"])
    disclosure: Disclosure = Field(
        description="How holdout numbers are shown to this caller (always exact for the round's "
        "organizer).",
        examples=["rounded"],
    )
    as_of: datetime | None = Field(
        description="For a frozen round, the moment it was frozen: only verdicts reached by "
        "then count. Null otherwise (everything decided so far counts).",
        examples=["2026-12-01T00:00:00Z"],
    )


class LeaderboardEntry(BaseModel):
    """One team's standing."""

    rank: int | None = Field(
        description="1 for the leading team; null for teams with no accepted submission yet "
        "(listed after the ranked teams).",
        examples=[1],
    )
    team_id: int = Field(examples=[7])
    team: str = Field(description="The team's name.", examples=["Fairness Hunters"])
    improvement: float | None = Field(
        description="Credited improvement: the sum of the holdout scores of the team's accepted, "
        f"not disqualified submissions (mean loss units), {_HOLDOUT}.",
        examples=[0.0425],
    )
    accepted: int = Field(description="Accepted, not disqualified submissions.", examples=[2])
    submissions: int = Field(description="Every submission of the team.", examples=[9])
    last_improvement_at: datetime | None = Field(
        description="When the team's latest accepted submission was decided.",
        examples=["2026-11-24T12:00:07Z"],
    )


class LeaderboardOut(BoardMeta):
    """The round's leaderboard."""

    ranked_by: Literal["improvement", "accepted"] = Field(
        description="improvement: by the improvement as shown to this caller, then accepted "
        "submissions; or, when holdout numbers are not disclosed, accepted submissions. Teams "
        "equal on those share a rank (listed by earliest last improvement), so ranks never "
        "tell an order the shown figures hide.",
        examples=["improvement"],
    )
    resolution: float | None = Field(
        default=None,
        description="The step holdout means are rounded to for this caller (rounded "
        "disclosure, bounded loss); an improvement shown as 0 with accepted submissions is "
        "positive but below it. Null when figures are exact or hidden.",
        examples=[0.01],
    )
    entries: list[LeaderboardEntry]


class HistoryPoint(BaseModel):
    """One version of the round's model."""

    version: int = Field(description="0 is the base model.", examples=[3])
    kind: str = Field(
        description="base (f0), patch (an accepted pair) or pointer (a repair).",
        examples=["patch"],
    )
    submission_id: int | None = Field(
        description="The accepted submission whose group the node covers: the patched one for a "
        "patch node, the repaired one for a pointer node.",
        examples=[42],
    )
    team_id: int | None = Field(description="The team of that submission.", examples=[7])
    team: str | None = Field(description="The name of that team.", examples=["Fairness Hunters"])
    target_version: int | None = Field(
        description="For pointer nodes: the version whose predictions the group gets back.",
        examples=[None],
    )
    created_at: datetime = Field(examples=["2026-11-24T12:00:07Z"])
    holdout_loss: float | None = Field(
        description=f"Mean holdout loss of this version, {_HOLDOUT}.", examples=[0.1523]
    )
    train_loss: float = Field(
        description="Mean loss on the public training split (exact).", examples=[0.1489]
    )


class HistoryOut(BoardMeta):
    """The model's losses over its versions, oldest first."""

    versions: list[HistoryPoint]


class TeamFeatureUsage(BaseModel):
    """How often one team's groups use each feature."""

    team_id: int = Field(examples=[7])
    team: str = Field(examples=["Fairness Hunters"])
    rule_groups: int = Field(description="Submissions whose group is a rule.", examples=[12])
    model_groups: int = Field(
        description="Submissions whose group is a model (their features are unknown).",
        examples=[1],
    )
    counts: list[int] = Field(
        description="For each feature of ``features`` (same order), how many of the team's "
        "rule groups read it.",
        examples=[[3, 0, 12]],
    )


class FeatureUsageOut(BaseModel):
    """The team x feature matrix of the round's rule groups."""

    round: str = Field(description="The round's slug.", examples=["adult-income-demo"])
    features: list[str] = Field(
        description="The round's feature names: the columns of every row's ``counts``.",
        examples=[["age", "sex", "race"]],
    )
    totals: list[int] = Field(
        description="For each feature, how many rule groups of all teams read it.",
        examples=[[5, 2, 14]],
    )
    teams: list[TeamFeatureUsage]


class AcceptedGroupOut(GroupErrorRates):
    """An accepted, not disqualified submission: its group and what it did to the model (with
    the group's false-positive and false-negative rates on the holdout, on two-class rounds)."""

    submission_id: int = Field(examples=[42])
    team_id: int = Field(examples=[7])
    team: str = Field(examples=["Fairness Hunters"])
    group: str = Field(
        description='The group\'s expression, or "group model" for a model group.',
        examples=['sex == "Female" and age >= 50'],
    )
    group_kind: Literal["rule", "model"] = Field(examples=["rule"])
    n_group: int | None = Field(
        description="Holdout rows in the group: exact, rounded (to a 1-2-5 step of at least "
        "half its square root), or null, as the round's disclosure allows.",
        examples=[412],
    )
    group_loss_before: float | None = Field(
        description=f"The head model's loss on the group's holdout rows before, {_HOLDOUT}.",
        examples=[0.2136],
    )
    group_loss_after: float | None = Field(
        description=f"The patch model's loss on the group's holdout rows, {_HOLDOUT}.",
        examples=[0.1432],
    )
    score: float | None = Field(description=f"The holdout score, {_HOLDOUT}.", examples=[0.0073])
    version: int | None = Field(description="The version the submission made.", examples=[3])
    repairs: list[RepairOut] = Field(
        description="Pointer nodes its acceptance added, restoring earlier groups."
    )
    decided_at: datetime | None = Field(examples=["2026-11-24T12:00:07Z"])


class GroupsOut(BoardMeta):
    """The round's accepted groups, in the order they were accepted."""

    groups: list[AcceptedGroupOut]
