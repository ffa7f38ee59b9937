"""Response bodies of the submission endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SplitStatsOut(BaseModel):
    """A pair measured on one split (holdout numbers only as the round discloses them)."""

    n_group: int
    group_loss_before: float | None
    group_loss_after: float | None
    score: float


class RepairOut(BaseModel):
    """A pointer node this submission's acceptance caused."""

    version: int
    submission_id: int
    target_version: int


class VerdictOut(BaseModel):
    """The verdict, as much as the participant may see of it."""

    outcome: str = Field(description="accepted, rejected or invalid.")
    reason: str = Field(
        description="invalid, group_too_small, no_improvement, below_threshold or accepted."
    )
    message: str
    version: int | None = Field(description="The model version this submission created.")
    train: SplitStatsOut | None = Field(
        description="The same statistics on the public train split."
    )
    holdout: SplitStatsOut | None = Field(
        description="Holdout statistics: accepted submissions only, rounded or exact by the "
        "round's disclosure setting, or never."
    )
    repairs: list[RepairOut] = Field(default_factory=list)


class SubmissionOut(BaseModel):
    """A submission and where it is."""

    id: int
    round: str
    team_id: int
    created_at: datetime
    status: str = Field(description="queued, running, evaluated or decided.")
    group_kind: str
    group_expression: str | None
    group_columns: list[str]
    note: str
    decided_at: datetime | None
    verdict: VerdictOut | None
    disqualified: bool = False
    url: str


class QuotaOut(BaseModel):
    """The team's submissions left today."""

    limit: int
    used: int
    remaining: int
    resets_at: datetime


class SubmissionAccepted(BaseModel):
    """The answer to a new submission: it is stored and queued."""

    submission: SubmissionOut
    quota: QuotaOut


class DisqualifyIn(BaseModel):
    """Why a submission is disqualified (shown to its team)."""

    reason: str = Field(min_length=1, max_length=500)


class ReplayOut(BaseModel):
    """What the replay without the disqualified submission changed."""

    head_version_before: int
    head_version_after: int
    changed_submissions: list[int] = Field(
        description="Submissions whose outcome changed (the disqualified one included)."
    )


class DisqualifiedOut(BaseModel):
    """The disqualified submission and the effect on the round."""

    submission: SubmissionOut
    replay: ReplayOut
