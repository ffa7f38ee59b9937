"""Request and response bodies of the rounds endpoints."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from app.rounds.models import Disclosure, RoundStatus
from bounty_engine.errors import EngineError
from bounty_engine.losses import LossKind, check_costs, cost_matrix
from bounty_engine.schema import FeatureSchema, Task
from bounty_engine.significance import AcceptanceTest, Spending, method_for

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$"

Title = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="The round's name, shown everywhere.",
        examples=["Income prediction, autumn 2026"],
    ),
]
Description = Annotated[
    str,
    Field(
        max_length=100_000,
        description="What the round is about, in Markdown (stored and returned as is).",
        examples=["Find the people our **income model** fails, and fix it for them."],
    ),
]
Schedule = Annotated[
    AwareDatetime | None,
    Field(description="Planned time (with a timezone); informational, optional."),
]
LossField = Annotated[
    LossKind,
    Field(
        description="Per-row loss: zero_one or cost (classification, cost weighs each kind of "
        "error by loss_costs), squared or absolute (regression).",
        examples=["zero_one"],
    ),
]
LossCosts = Annotated[
    list[list[int]] | None,
    Field(
        description="cost only: loss_costs[i][j] is the cost of predicting class j when the "
        "truth is class i (classes in the label's order, as the round's schema lists them), "
        "whole numbers from 0 to 1,000,000. [[0, 3], [1, 0]]: a false positive costs 3, a "
        "false negative 1.",
        examples=[[[0, 3], [1, 0]]],
    ),
]
LossClip = Annotated[
    float | None,
    Field(
        gt=0,
        allow_inf_nan=False,
        description="Upper bound on the squared/absolute error of a row; not for zero_one.",
        examples=[4.0],
    ),
]
Alpha = Annotated[
    float,
    Field(
        ge=0,
        allow_inf_nan=False,
        description=(
            "Minimum score of an accepted pair, in loss units per holdout row: the pair must "
            "lower the holdout's total loss by at least alpha * n_holdout. The default, 0.002, "
            "is 2 rows per 1,000 holdout rows for zero_one: keep alpha * n_holdout above one "
            "row's largest loss (1 for zero_one, the clip for a clipped loss), or a pair that "
            "changes a single row is accepted exactly when the change is right, which reveals "
            "that row's label (alpha_meaning says what alpha means on the round's holdout)."
        ),
        examples=[0.002],
    ),
]
MinGroupRows = Annotated[
    int,
    Field(
        ge=1,
        description="Fewest holdout rows a group must contain (default 30, so that a group is "
        "not one person).",
        examples=[30],
    ),
]
RepairAlpha = Annotated[
    float,
    Field(
        ge=0,
        allow_inf_nan=False,
        description="Tolerance (loss units per holdout row) before an earlier group is repaired.",
        examples=[0.0005],
    ),
]
AcceptanceTestField = Annotated[
    AcceptanceTest,
    Field(
        description=(
            "How an improvement is judged enough. significance (default): the pair must also "
            "pass a one-sided paired test on its group's holdout rows (exact sign test for "
            "zero_one, paired t-test otherwise), at a level that spends the round's error "
            "budget, 1 - confidence, over its submissions; an accepted pair then improves the "
            "model on its group with at least that confidence. threshold: any exact holdout "
            "improvement of at least alpha (no claim about fresh data)."
        ),
        examples=["significance"],
    ),
]
Confidence = Annotated[
    float,
    Field(
        ge=0.5,
        lt=1,
        allow_inf_nan=False,
        description="significance only: the chance that no accepted pair of the round is "
        "noise (its error budget is 1 - confidence).",
        examples=[0.95],
    ),
]
PlannedSubmissions = Annotated[
    int,
    Field(
        ge=1,
        le=10_000_000,
        description="significance only: how many submissions the round expects. The first "
        "ones are tested at about (1 - confidence) / planned each; later ones at quickly "
        "smaller levels, so the budget holds however many come.",
        examples=[1000],
    ),
]
TestGuard = Annotated[
    bool,
    Field(
        description="Hold for the organizer's review (not splice in) a pair that passes on the "
        "holdout but makes the model worse on the sealed test split beyond its 95% interval, "
        "or would leave the model worse there than the base model. The organizer releases or "
        "leaves it; the test split then informs decisions, so it is less of a fresh check.",
        examples=[False],
    ),
]
DailyQuota = Annotated[
    int,
    Field(
        ge=1,
        le=10_000,
        description="Submissions per team per UTC day, failed ones included.",
        examples=[10],
    ),
]
DisclosureField = Annotated[
    Disclosure,
    Field(
        description=(
            "What participants learn from the holdout. rounded (default): the outcome and one "
            "reason, not_accepted, for every rejection; holdout numbers for accepted pairs only, "
            "rounded to a step no finer than their sampling error. exact (classroom mode): the "
            "engine's reason (group_too_small, no_improvement, below_threshold, "
            "not_significant) and exact holdout numbers for accepted pairs; it lets a "
            "participant learn holdout labels and voids the significance guarantee for "
            "pairs built from those answers. "
            "none: as rounded, with no holdout numbers at all. Organizers always see everything "
            "exactly; train-split statistics are always shown."
        ),
        examples=["rounded"],
    ),
]
MaxTeamSize = Annotated[
    int, Field(ge=1, le=1000, description="Most members a team may have.", examples=[5])
]

RULE_FIELDS = frozenset(
    {
        "loss",
        "loss_clip",
        "loss_costs",
        "alpha",
        "min_group_rows",
        "repair_alpha",
        "acceptance_test",
        "confidence",
        "planned_submissions",
        "test_guard",
        "daily_quota",
        "disclosure",
        "max_team_size",
    }
)
"""Settings that may change only while a round is a draft."""


def check_loss(loss: LossKind, clip: float | None, costs: list[list[int]] | None) -> None:
    """Refuse a clip on a classification loss (it is already bounded), a cost matrix on any
    loss but cost, and a cost loss without a valid matrix."""
    if loss in (LossKind.ZERO_ONE, LossKind.COST) and clip is not None:
        raise ValueError(f"the {loss.value} loss is already bounded: it takes no loss_clip")
    if loss is not LossKind.COST:
        if costs is not None:
            raise ValueError(f"loss_costs is for the cost loss, not {loss.value}")
        return
    if costs is None:
        raise ValueError("the cost loss needs loss_costs, the cost of each kind of error")
    try:
        check_costs(cost_matrix(costs) or ())
    except EngineError as exc:
        raise ValueError(str(exc)) from exc


def loss_task(loss: LossKind) -> Task:
    """The task a loss kind scores."""
    classification = loss in (LossKind.ZERO_ONE, LossKind.COST)
    return Task.CLASSIFICATION if classification else Task.REGRESSION


def check_schedule(opens_at: datetime | None, closes_at: datetime | None) -> None:
    """Refuse a schedule that closes before it opens, or has closed already."""
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise ValueError("closes_at must be later than opens_at")
    if closes_at is not None and closes_at <= datetime.now(UTC):
        raise ValueError("closes_at is in the past")


class RoundCreate(BaseModel):
    """A new round, created as a draft."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Income prediction, autumn 2026",
                    "description": "Find the people our income model fails.",
                    "loss": "zero_one",
                    "alpha": 0.002,
                    "min_group_rows": 30,
                    "daily_quota": 10,
                    "disclosure": "rounded",
                }
            ]
        },
    )

    title: Title
    slug: str | None = Field(
        default=None,
        pattern=SLUG_PATTERN,
        description="URL name (lowercase letters, digits, dashes); derived from the title if "
        "omitted. Must be unique.",
        examples=["income-autumn-2026"],
    )
    description: Description = ""
    loss: LossField = LossKind.ZERO_ONE
    loss_clip: LossClip = None
    loss_costs: LossCosts = None
    alpha: Alpha = 0.002
    min_group_rows: MinGroupRows = 30
    repair_alpha: RepairAlpha = 0.0
    acceptance_test: AcceptanceTestField = AcceptanceTest.SIGNIFICANCE
    confidence: Confidence = 0.95
    planned_submissions: PlannedSubmissions = 1000
    test_guard: TestGuard = False
    daily_quota: DailyQuota = 10
    disclosure: DisclosureField = Disclosure.ROUNDED
    max_team_size: MaxTeamSize = 5
    opens_at: Schedule = Field(default=None, examples=["2026-11-02T00:00:00Z"])
    closes_at: Schedule = Field(default=None, examples=["2026-12-01T00:00:00Z"])

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_loss(self.loss, self.loss_clip, self.loss_costs)
        check_schedule(self.opens_at, self.closes_at)
        return self


class RoundUpdate(BaseModel):
    """Changes to a round; omitted fields stay as they are.

    Rules (loss, alpha, quotas, ...) change only while the round is a draft; title,
    description and schedule until it is closed. ``null`` clears loss_clip, loss_costs,
    opens_at, closes_at.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"alpha": 0.001, "closes_at": "2026-12-01T00:00:00Z"}]},
    )

    title: Title | None = None
    description: Description | None = None
    loss: LossField | None = None
    loss_clip: LossClip = None
    loss_costs: LossCosts = None
    alpha: Alpha | None = None
    min_group_rows: MinGroupRows | None = None
    repair_alpha: RepairAlpha | None = None
    acceptance_test: AcceptanceTestField | None = None
    confidence: Confidence | None = None
    planned_submissions: PlannedSubmissions | None = None
    test_guard: TestGuard | None = None
    daily_quota: DailyQuota | None = None
    disclosure: DisclosureField | None = None
    max_team_size: MaxTeamSize | None = None
    opens_at: Schedule = Field(default=None, examples=["2026-11-02T00:00:00Z"])
    closes_at: Schedule = Field(default=None, examples=["2026-12-01T00:00:00Z"])

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        nullable = {"loss_clip", "loss_costs", "opens_at", "closes_at"}
        nulls = sorted(
            name for name in self.model_fields_set - nullable if getattr(self, name) is None
        )
        if nulls:
            raise ValueError(f"these fields cannot be null: {', '.join(nulls)}")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the request sets, with their new values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class RulesOut(BaseModel):
    """The settings that decide submissions and bound participation."""

    loss: LossKind = Field(examples=["zero_one"])
    loss_clip: float | None = Field(examples=[None])
    loss_costs: list[list[int]] | None = Field(default=None, examples=[None])
    alpha: float = Field(examples=[0.002])
    min_group_rows: int = Field(examples=[30])
    repair_alpha: float = Field(examples=[0.0])
    acceptance_test: AcceptanceTest = Field(examples=["significance"])
    confidence: float = Field(examples=[0.95])
    planned_submissions: int = Field(examples=[1000])
    test_guard: bool = Field(examples=[False])
    daily_quota: int = Field(examples=[10])
    disclosure: Disclosure = Field(examples=["rounded"])
    max_team_size: int = Field(examples=[5])


class AlphaMeaning(BaseModel):
    """What alpha and the minimum group size mean on this round's holdout."""

    alpha: float = Field(examples=[0.002])
    n_holdout: int = Field(examples=[4000])
    min_loss_reduction: float = Field(
        description="alpha * n_holdout: how much an accepted pair must lower the holdout's "
        "total loss (for zero_one, net holdout rows fixed).",
        examples=[8.0],
    )
    min_rows_fixed: int | None = Field(
        default=None,
        description="zero_one only: the fewest net holdout rows an accepted pair must fix.",
        examples=[8],
    )
    min_group_rows: int = Field(examples=[30])
    summary: str = Field(
        examples=[
            "An accepted pair must fix at least 8 more of the 4000 holdout rows than it "
            "breaks, on a group of at least 30 holdout rows."
        ]
    )

    @classmethod
    def build(cls, loss: LossKind, alpha: float, n_holdout: int, min_group_rows: int) -> Self:
        """The explanation for these settings."""
        reduction = alpha * n_holdout
        if loss is LossKind.ZERO_ONE:
            rows = max(1, math.ceil(round(reduction, 9)))
            summary = (
                f"An accepted pair must fix at least {rows} more of the {n_holdout} holdout "
                f"rows than it breaks, on a group of at least {min_group_rows} holdout rows."
            )
            return cls(
                alpha=alpha,
                n_holdout=n_holdout,
                min_loss_reduction=reduction,
                min_rows_fixed=rows,
                min_group_rows=min_group_rows,
                summary=summary,
            )
        what = "cost of the errors" if loss is LossKind.COST else f"{loss.value} error"
        summary = (
            f"An accepted pair must lower the total {what} over the {n_holdout} "
            f"holdout rows by at least {reduction:g} (and by more than 0), on a group of at "
            f"least {min_group_rows} holdout rows."
        )
        return cls(
            alpha=alpha,
            n_holdout=n_holdout,
            min_loss_reduction=reduction,
            min_group_rows=min_group_rows,
            summary=summary,
        )


class AcceptanceOut(BaseModel):
    """What an accepted pair means on this round, in plain words and in numbers."""

    test: AcceptanceTest = Field(examples=["significance"])
    method: str | None = Field(
        description="significance only: sign (exact sign test, zero_one) or t (paired "
        "t-test, cost, squared and absolute loss).",
        examples=["sign"],
    )
    confidence: float | None = Field(examples=[0.95])
    first_level: float | None = Field(
        description="The significance level of the round's first tested pair.",
        examples=[4.995e-05],
    )
    planned_level: float | None = Field(
        description="The level of the last planned submission (later ones: smaller).",
        examples=[1.2506e-05],
    )
    guarantee: str = Field(
        examples=["An accepted pair improves the model on its group with at least 95% confidence."]
    )
    details: str = Field(
        examples=["Each pair is tested against the current model on its group's holdout rows ..."]
    )

    @classmethod
    def build(
        cls,
        test: AcceptanceTest,
        *,
        loss: LossKind,
        confidence: float,
        planned: int,
        disclosure: Disclosure,
        test_guard: bool = False,
    ) -> Self:
        """The explanation for these settings."""
        guard = (
            " A pair that passes but makes the model worse on the sealed test split beyond "
            "its 95% interval is held for the organizer's review before it is spliced in."
            if test_guard
            else ""
        )
        if test is AcceptanceTest.THRESHOLD:
            return cls(
                test=test,
                method=None,
                confidence=None,
                first_level=None,
                planned_level=None,
                guarantee="An accepted pair lowered the loss on the holdout by at least the "
                "round's threshold; the round makes no statistical claim that it improves the "
                "model on new data.",
                details="With a small holdout and many submissions, some accepted pairs may "
                "be noise: check the closing report's test-split figures." + guard,
            )
        spending = Spending(confidence, planned)
        method = method_for(loss)
        how = (
            "an exact sign test on the rows where exactly one of the two is right"
            if method.value == "sign"
            else "a one-sided paired t-test on the per-row loss differences"
        )
        percent = f"{confidence * 100:g}%"
        details = (
            f"Each pair is tested against the current model on its group's holdout rows "
            f"({how}). The round's {100 - confidence * 100:g}% error budget is spread over its "
            f"submissions: the first is tested at level {spending.level(1):.2g}, the "
            f"{planned}th at {spending.level(planned):.2g}, later ones at smaller levels, so "
            f"the chance that any accepted pair of the whole round does not truly improve its "
            f"group is at most {100 - confidence * 100:g}%. The pair must also lower the "
            f"holdout loss by at least alpha, on a group of at least min_group_rows rows."
        )
        if disclosure == Disclosure.EXACT:
            details += (
                " This round discloses exact holdout figures (classroom mode): pairs built "
                "from those answers can overfit the holdout, and the guarantee does not cover "
                "them."
            )
        details += guard
        return cls(
            test=test,
            method=method.value,
            confidence=confidence,
            first_level=spending.level(1),
            planned_level=spending.level(planned),
            guarantee=f"An accepted pair improves the model on its group with at least "
            f"{percent} confidence.",
            details=details,
        )


class DataOut(BaseModel):
    """The round's data: its label and split sizes (never holdout or test contents)."""

    label: str = Field(examples=["income"])
    task: Task = Field(examples=["classification"])
    n_features: int = Field(examples=[14])
    n_train: int = Field(examples=[12000])
    n_holdout: int = Field(examples=[4000])
    n_test: int = Field(examples=[4000])
    split_fractions: list[float] | None = Field(examples=[[0.6, 0.2, 0.2]])
    split_seed: int | None = Field(
        description="Seed of the random split (shown to the organizer only); null when the "
        "splits were uploaded separately.",
        examples=[0],
    )


class BaseModelOut(BaseModel):
    """The base model f0 that submissions improve on."""

    format: str = Field(description="skops or onnx.", examples=["skops"])
    source: str = Field(
        description="upload (the organizer's file) or default (trained by the platform).",
        examples=["default"],
    )
    sha256: str = Field(
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    )


class RoundOut(BaseModel):
    """A round: its settings, data summary, base model and lifecycle status."""

    id: int = Field(examples=[1])
    slug: str = Field(examples=["adult-income-demo"])
    title: str = Field(examples=["Income prediction, autumn 2026"])
    description: str = Field(description="Markdown.", examples=["Find the people ..."])
    status: RoundStatus = Field(examples=["open"])
    organizer_id: int = Field(examples=[1])
    created_at: datetime = Field(examples=["2026-11-01T09:00:00Z"])
    opens_at: datetime | None = Field(examples=["2026-11-02T00:00:00Z"])
    closes_at: datetime | None = Field(examples=["2026-12-01T00:00:00Z"])
    rules: RulesOut
    data: DataOut | None = Field(description="Null until the organizer uploads a dataset.")
    base_model: BaseModelOut | None = Field(description="Null until a base model is set.")
    alpha_meaning: AlphaMeaning | None = Field(description="Null until there is data.")
    costs_explained: str | None = Field(
        default=None,
        description="cost loss only: what each kind of error costs, in words (with the "
        "label's classes once there is data).",
        examples=[
            "Predicting 1 when the truth is 0 costs 3; predicting 0 when the truth is 1 "
            "costs 1; right predictions cost nothing."
        ],
    )
    acceptance: AcceptanceOut = Field(
        description="What an accepted pair means on this round (its guarantee)."
    )
    head_version: int = Field(
        description="The newest model version (0: the base model).", examples=[4]
    )


class DatasetOut(BaseModel):
    """The result of a dataset upload: the inferred schema and the split sizes."""

    feature_schema: FeatureSchema = Field(description="Feature columns and the label.")
    data: DataOut
    alpha_meaning: AlphaMeaning


class VersionOut(BaseModel):
    """One version of the round's model, with the losses this caller may see."""

    version: int = Field(examples=[0])
    kind: str = Field(description="base, patch or pointer.", examples=["base"])
    submission_id: int | None = Field(examples=[None])
    target_version: int | None = Field(
        description="For pointer nodes: the version whose predictions are restored.",
        examples=[None],
    )
    train_loss: float = Field(
        description="Mean loss on the public training split (exact).", examples=[0.1489]
    )
    holdout_loss: float | None = Field(
        description="Mean holdout loss: rounded (to a 1-2-5 step no finer than half a row's "
        "loss over sqrt(n_holdout), so that version-to-version differences do not count "
        "rows), exact, or null, as the round's disclosure says (exact for its organizer).",
        examples=[0.15],
    )
    test_loss: float | None = Field(
        default=None,
        description="Mean loss on the sealed test split; organizer only.",
        examples=[0.1531],
    )
    created_at: datetime = Field(examples=["2026-11-01T09:05:00Z"])
