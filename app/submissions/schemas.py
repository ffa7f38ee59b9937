"""Response bodies of the submission endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.core.errors import ProblemError

_RATE = (
    "two-class rounds only (null otherwise, or when the group has no row of that true class); "
    "the positive class is the label's second class; holdout rates are rounded, unless the "
    "round discloses exactly, to a step of at least 1 / (2 sqrt(rows of that true class))"
)


class GroupErrorRates(BaseModel):
    """The group's false-positive and false-negative rates under the model before the pair and
    under h (definitions as fairlearn's ``false_positive_rate`` and ``false_negative_rate``)."""

    false_positive_rate_before: float | None = Field(
        default=None,
        description="Of the group's rows whose truth is negative, the share the current model "
        f"predicts positive; {_RATE}.",
        examples=[0.082],
    )
    false_positive_rate_after: float | None = Field(
        default=None, description=f"The same share under h; {_RATE}.", examples=[0.05]
    )
    false_negative_rate_before: float | None = Field(
        default=None,
        description="Of the group's rows whose truth is positive, the share the current model "
        f"predicts negative; {_RATE}.",
        examples=[0.41],
    )
    false_negative_rate_after: float | None = Field(
        default=None, description=f"The same share under h; {_RATE}.", examples=[0.2]
    )

    def error_rates(self) -> dict[str, float | None]:
        """The four rates, to copy into another body that shows them."""
        return {name: getattr(self, name) for name in GroupErrorRates.model_fields}


class SplitStatsOut(GroupErrorRates):
    """A pair measured on one split. Train numbers are exact; holdout numbers are shown as the
    round discloses them: exact, or rounded to a 1-2-5 step no finer than their sampling error
    (so never exact counts of holdout rows)."""

    n_group: int = Field(
        description="Rows of the split in the group (holdout, rounded: to a step of at least "
        "half its square root).",
        examples=[412],
    )
    group_loss_before: float | None = Field(
        description="The current model's mean loss on the group's rows (holdout, rounded: to "
        "a step of at least scale / (2 sqrt(n_group)), scale being one row's largest loss).",
        examples=[0.2136],
    )
    group_loss_after: float | None = Field(
        description="h's mean loss on the group's rows (rounded like group_loss_before).",
        examples=[0.1432],
    )
    score: float = Field(
        description="(n_group / n) * (group_loss_before - group_loss_after), n the split's "
        "rows (holdout, rounded: to a step of at least scale * sqrt(n_group) / (2 n)).",
        examples=[0.0073],
    )


class SignificanceOut(BaseModel):
    """The pair's significance test on the holdout (rounds with the significance rule)."""

    method: str = Field(
        description="sign (exact sign test) or t (paired t-test).", examples=["sign"]
    )
    index: int = Field(
        description="The pair's place among the round's tested pairs.", examples=[12]
    )
    level: float = Field(description="The significance level it was tested at.", examples=[4.9e-05])
    p_value: float = Field(examples=[3.1e-07])
    lower_bound: float = Field(
        description="Lower confidence bound, at that level, on the group's mean loss reduction "
        "per group row.",
        examples=[0.021],
    )


class RepairOut(BaseModel):
    """A pointer node that an acceptance caused: an earlier accepted group given back its best
    version's predictions."""

    version: int = Field(description="The version the pointer node made.", examples=[4])
    submission_id: int = Field(
        description="The submission whose group was repaired.", examples=[17]
    )
    target_version: int = Field(
        description="The version whose predictions it restored.", examples=[1]
    )


class VerdictOut(BaseModel):
    """The verdict, as much as the participant may see of it."""

    outcome: str = Field(description="accepted, rejected or invalid.", examples=["accepted"])
    reason: str = Field(
        description="accepted, invalid, disqualified, or why the pair was rejected: on rounds "
        "that disclose exactly (classroom mode) and for the round's organizer, "
        "group_too_small, no_improvement, below_threshold or not_significant; otherwise "
        "not_accepted, whichever it was (the difference would reveal holdout labels).",
        examples=["accepted"],
    )
    message: str = Field(examples=["accepted: the pair was spliced into the model"])
    version: int | None = Field(
        description="The model version this submission created.", examples=[3]
    )
    train: SplitStatsOut | None = Field(
        description="The same statistics on the public train split."
    )
    holdout: SplitStatsOut | None = Field(
        description="Holdout statistics: accepted submissions only, rounded or exact by the "
        "round's disclosure setting, or never."
    )
    repairs: list[RepairOut] = Field(default_factory=list)
    significance: SignificanceOut | None = Field(
        default=None,
        description="The significance test: for the round's organizer, and for participants "
        "on rounds that disclose exactly (accepted pairs).",
    )


class SubmissionOut(BaseModel):
    """A submission and where it is."""

    id: int = Field(examples=[42])
    round: str = Field(examples=["adult-income-demo"])
    team_id: int = Field(examples=[7])
    created_at: datetime = Field(examples=["2026-11-24T12:00:00Z"])
    status: str = Field(description="queued, running, evaluated or decided.", examples=["decided"])
    group_kind: str = Field(examples=["rule"])
    group_expression: str | None = Field(examples=['sex == "Female" and age >= 50'])
    group_columns: list[str] = Field(examples=[["age", "sex"]])
    note: str = Field(examples=["Older women with a high income are predicted <=50K."])
    decided_at: datetime | None = Field(examples=["2026-11-24T12:00:07Z"])
    verdict: VerdictOut | None
    disqualified: bool = Field(default=False, examples=[False])
    released: bool = Field(
        default=False,
        description="The organizer released it after the test-split guard held it for review.",
        examples=[False],
    )
    url: str = Field(examples=["/api/v1/submissions/42"])


class QuotaOut(BaseModel):
    """The team's submissions left today."""

    limit: int = Field(examples=[10])
    used: int = Field(examples=[3])
    remaining: int = Field(examples=[7])
    resets_at: datetime = Field(examples=["2026-11-25T00:00:00Z"])


class SubmissionAccepted(BaseModel):
    """The answer to a new submission: it is stored and queued."""

    submission: SubmissionOut
    quota: QuotaOut


class DisqualifyIn(BaseModel):
    """Why a submission is disqualified (shown to its team)."""

    reason: str = Field(
        min_length=1,
        max_length=500,
        examples=["Submitted from a second team account to get around the daily quota."],
    )


class ReplayOut(BaseModel):
    """What the replay without the disqualified submission changed."""

    head_version_before: int = Field(examples=[4])
    head_version_after: int = Field(examples=[3])
    changed_submissions: list[int] = Field(
        description="Submissions whose outcome changed (the disqualified one included).",
        examples=[[42, 45]],
    )


class DisqualifiedOut(BaseModel):
    """The disqualified submission and the effect on the round."""

    submission: SubmissionOut
    replay: ReplayOut


class ReleasedOut(BaseModel):
    """The released submission and the effect on the round."""

    submission: SubmissionOut
    replay: ReplayOut


class ExpressionIn(BaseModel):
    """A group rule to check before submitting it."""

    expression: str = Field(
        min_length=1, max_length=20_000, examples=['sex == "Female" and age >= 50']
    )


class ExpressionCheckOut(BaseModel):
    """Whether a group rule is valid for the round, and how big its group is on the public
    train split (the holdout is never consulted)."""

    expression: str = Field(examples=['sex == "Female" and age >= 50'])
    valid: bool = Field(examples=[True])
    canonical: str | None = Field(
        default=None,
        description="The rule normalized (what the platform stores and compares).",
        examples=['(sex == "Female") and (age >= 50)'],
    )
    columns: list[str] = Field(
        default_factory=list, description="The features it reads.", examples=[["age", "sex"]]
    )
    train_rows: int | None = Field(
        default=None, description="Rows of the train split in the group.", examples=[1937]
    )
    train_share: float | None = Field(
        default=None, description="The same as a share of the train split.", examples=[0.0661]
    )
    train_loss: float | None = Field(
        default=None,
        description="The current model's mean loss on the group's train rows, by the round's "
        "loss (on a cost round, the mean cost of its errors there); null before the round "
        "opens or for an empty group.",
        examples=[0.214],
    )
    train_false_positive_rate: float | None = Field(
        default=None,
        description="Two-class rounds: of the group's train rows whose truth is negative, the "
        "share the current model predicts positive.",
        examples=[0.25],
    )
    train_false_negative_rate: float | None = Field(
        default=None,
        description="Two-class rounds: of the group's train rows whose truth is positive, the "
        "share the current model predicts negative.",
        examples=[0.06],
    )
    error: ProblemError | None = Field(
        default=None, description="Why it is not valid, with the position in the text."
    )
