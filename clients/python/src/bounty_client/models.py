"""The API's models, generated from its OpenAPI document (`make api-types`); do not edit."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, RootModel


class ActorOut(BaseModel):
    id: Annotated[int, Field(examples=[3], title="Id")]
    display_name: Annotated[str, Field(examples=["Grace (organizer)"], title="Display Name")]


class AlphaMeaning(BaseModel):
    alpha: Annotated[float, Field(examples=[0.002], title="Alpha")]
    n_holdout: Annotated[int, Field(examples=[4000], title="N Holdout")]
    min_loss_reduction: Annotated[
        float,
        Field(
            description="alpha * n_holdout: how much an accepted pair must lower the holdout's total loss (for zero_one, net holdout rows fixed).",
            examples=[8.0],
            title="Min Loss Reduction",
        ),
    ]
    min_rows_fixed: Annotated[
        int | None,
        Field(
            description="zero_one only: the fewest net holdout rows an accepted pair must fix.",
            examples=[8],
            title="Min Rows Fixed",
        ),
    ] = None
    min_group_rows: Annotated[int, Field(examples=[30], title="Min Group Rows")]
    summary: Annotated[
        str,
        Field(
            examples=[
                "An accepted pair must fix at least 8 more of the 4000 holdout rows than it breaks, on a group of at least 30 holdout rows."
            ],
            title="Summary",
        ),
    ]


class ExpiresInDays(RootModel[int]):
    root: Annotated[int, Field(examples=[90], ge=1, le=3650, title="Expires In Days")]


class ApiKeyCreate(BaseModel):
    name: Annotated[
        str, Field(examples=["notebook on my laptop"], max_length=100, min_length=1, title="Name")
    ]
    expires_in_days: Annotated[
        ExpiresInDays | None, Field(examples=[90], title="Expires In Days")
    ] = None


class ApiKeyCreated(BaseModel):
    id: Annotated[int, Field(examples=[3], title="Id")]
    name: Annotated[str, Field(examples=["notebook on my laptop"], title="Name")]
    prefix: Annotated[str, Field(examples=["bbk_680QXs"], title="Prefix")]
    created_at: Annotated[
        AwareDatetime, Field(examples=["2026-11-20T10:00:00Z"], title="Created At")
    ]
    last_used_at: Annotated[
        AwareDatetime | None, Field(examples=["2026-11-24T12:00:00Z"], title="Last Used At")
    ]
    expires_at: Annotated[
        AwareDatetime | None, Field(examples=["2027-02-18T10:00:00Z"], title="Expires At")
    ]
    revoked_at: Annotated[
        AwareDatetime | None, Field(examples=["2026-11-30T18:00:00Z"], title="Revoked At")
    ]
    key: Annotated[
        str, Field(examples=["bbk_680QXsFHBiPmEMAv_DwK16PapWWIvIreefWWxpJbroQ"], title="Key")
    ]


class ApiKeyOut(BaseModel):
    id: Annotated[int, Field(examples=[3], title="Id")]
    name: Annotated[str, Field(examples=["notebook on my laptop"], title="Name")]
    prefix: Annotated[str, Field(examples=["bbk_680QXs"], title="Prefix")]
    created_at: Annotated[
        AwareDatetime, Field(examples=["2026-11-20T10:00:00Z"], title="Created At")
    ]
    last_used_at: Annotated[
        AwareDatetime | None, Field(examples=["2026-11-24T12:00:00Z"], title="Last Used At")
    ]
    expires_at: Annotated[
        AwareDatetime | None, Field(examples=["2027-02-18T10:00:00Z"], title="Expires At")
    ]
    revoked_at: Annotated[
        AwareDatetime | None, Field(examples=["2026-11-30T18:00:00Z"], title="Revoked At")
    ]


class AuditEventOut(BaseModel):
    id: Annotated[
        int,
        Field(
            description="Increasing with time; pass the last one as `after` to page on.",
            examples=[42],
            title="Id",
        ),
    ]
    at: Annotated[AwareDatetime, Field(examples=["2026-11-20T14:03:11Z"], title="At")]
    action: Annotated[
        str,
        Field(
            description="round.created, round.updated, round.dataset_uploaded, round.base_model_set, round.opened, round.frozen, round.closed, round.imported, submission.disqualified, submission.released, verdict (by a worker), team.created, team.joined",
            examples=["verdict"],
            title="Action",
        ),
    ]
    actor: Annotated[ActorOut | None, Field(examples=[None])]
    detail: Annotated[
        dict[str, Any],
        Field(
            examples=[{"outcome": "accepted", "reason": "accepted", "submission_id": 17}],
            title="Detail",
        ),
    ]


class AuditPageOut(BaseModel):
    round: Annotated[str, Field(examples=["adult-income-demo"], title="Round")]
    events: Annotated[list[AuditEventOut], Field(title="Events")]
    next_after: Annotated[
        int | None,
        Field(
            description="The `after` of the next page, or null when this page is the last.",
            examples=[42],
            title="Next After",
        ),
    ]


class BaseModelOut(BaseModel):
    format: Annotated[str, Field(description="skops or onnx.", examples=["skops"], title="Format")]
    source: Annotated[
        str,
        Field(
            description="upload (the organizer's file) or default (trained by the platform).",
            examples=["default"],
            title="Source",
        ),
    ]
    sha256: Annotated[
        str,
        Field(
            examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
            title="Sha256",
        ),
    ]


class BodyAddPopulation(BaseModel):
    name: Annotated[
        str,
        Field(
            description="Its name in the round.",
            examples=["clinic-b"],
            max_length=100,
            min_length=1,
            title="Name",
        ),
    ]
    file: Annotated[
        bytes,
        Field(description="A CSV or Parquet table: the round's features and label.", title="File"),
    ]
    description: Annotated[
        str | None,
        Field(
            description="Where and when the rows come from.",
            examples=["Patients seen at clinic B in 2026"],
            max_length=5000,
            title="Description",
        ),
    ] = ""


class Slug(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="A new slug (default: the archived one).",
            examples=["income-autumn-2026-copy"],
            max_length=80,
            pattern="^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$",
            title="Slug",
        ),
    ]


class BodyImportArchive(BaseModel):
    file: Annotated[
        bytes, Field(description="An archive from GET /rounds/{slug}/archive.", title="File")
    ]
    slug: Annotated[
        Slug | None,
        Field(
            description="A new slug (default: the archived one).",
            examples=["income-autumn-2026-copy"],
            title="Slug",
        ),
    ] = None


class BodySignIn(BaseModel):
    username: Annotated[
        str,
        Field(
            description="The account's email.",
            examples=["researcher@example.com"],
            title="Username",
        ),
    ]
    password: Annotated[str, Field(examples=["correct horse battery staple"], title="Password")]
    grant_type: Annotated[
        Literal["password"] | None,
        Field(
            description="OAuth2 password flow; may be left out.",
            examples=["password"],
            title="Grant Type",
        ),
    ] = None


class BodySubmit(BaseModel):
    model: Annotated[bytes, Field(description="h: a skops or ONNX model file.", title="Model")]
    group_expression: Annotated[
        str | None,
        Field(
            description='g as a rule, e.g. sex == "Female" and age >= 50.',
            examples=['sex == "Female" and age >= 50'],
            title="Group Expression",
        ),
    ] = None
    group_model: Annotated[
        bytes | None,
        Field(description="g as a 0/1 classifier (skops or ONNX).", title="Group Model"),
    ] = None
    note: Annotated[
        str | None,
        Field(
            examples=["older women: a tree on hours and education"], max_length=2000, title="Note"
        ),
    ] = ""


class BodyUploadBaseModel(BaseModel):
    file: Annotated[
        bytes, Field(description="A skops or ONNX model file (never pickle).", title="File")
    ]


class BodyUploadDataset(BaseModel):
    label: Annotated[
        str,
        Field(
            description="The label column.",
            examples=["y"],
            max_length=200,
            min_length=1,
            title="Label",
        ),
    ]
    file: Annotated[
        bytes | None, Field(description="One CSV or Parquet table, split at random.", title="File")
    ] = None
    train: Annotated[
        bytes | None, Field(description="The train split (with holdout, test).", title="Train")
    ] = None
    holdout: Annotated[
        bytes | None, Field(description="The hidden holdout split.", title="Holdout")
    ] = None
    test: Annotated[bytes | None, Field(description="The sealed test split.", title="Test")] = None
    train_fraction: Annotated[
        float | None,
        Field(
            description="Share of rows for train.",
            examples=[0.6],
            ge=0.0,
            le=1.0,
            title="Train Fraction",
        ),
    ] = 0.6
    holdout_fraction: Annotated[
        float | None,
        Field(
            description="Share for the holdout.",
            examples=[0.2],
            ge=0.0,
            le=1.0,
            title="Holdout Fraction",
        ),
    ] = 0.2
    test_fraction: Annotated[
        float | None,
        Field(
            description="Share for the test split.",
            examples=[0.2],
            ge=0.0,
            le=1.0,
            title="Test Fraction",
        ),
    ] = 0.2
    seed: Annotated[
        int | None,
        Field(
            description="Seed of the random split.", examples=[0], ge=0, le=4294967295, title="Seed"
        ),
    ] = 0


class DeployerIn(BaseModel):
    email: Annotated[
        str,
        Field(examples=["analyst@clinic-b.example"], max_length=320, min_length=3, title="Email"),
    ]


class DeployerOut(BaseModel):
    id: Annotated[int, Field(examples=[12], title="Id")]
    email: Annotated[str, Field(examples=["analyst@clinic-b.example"], title="Email")]
    display_name: Annotated[str, Field(examples=["Clinic B analytics"], title="Display Name")]


class DisqualifyIn(BaseModel):
    reason: Annotated[
        str,
        Field(
            examples=["Submitted from a second team account to get around the daily quota."],
            max_length=500,
            min_length=1,
            title="Reason",
        ),
    ]


class ExpressionIn(BaseModel):
    expression: Annotated[
        str,
        Field(
            examples=['sex == "Female" and age >= 50'],
            max_length=20000,
            min_length=1,
            title="Expression",
        ),
    ]


class Figure(BaseModel):
    false_positive_rate: Annotated[
        float | None, Field(examples=[0.08], title="False Positive Rate")
    ] = None
    false_negative_rate: Annotated[
        float | None, Field(examples=[0.31], title="False Negative Rate")
    ] = None
    loss: Annotated[
        float | None,
        Field(description="Mean loss (null on no rows).", examples=[0.152], title="Loss"),
    ]


class Slug1(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="Its slug (default: made from the title).",
            examples=["income-branch-office-2027"],
            max_length=80,
            pattern="^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$",
            title="Slug",
        ),
    ]


class FollowUpIn(BaseModel):
    title: Annotated[
        str,
        Field(
            description="The round's name, shown everywhere.",
            examples=["Income prediction, autumn 2026"],
            max_length=200,
            min_length=1,
            title="Title",
        ),
    ]
    slug: Annotated[
        Slug1 | None,
        Field(
            description="Its slug (default: made from the title).",
            examples=["income-branch-office-2027"],
            title="Slug",
        ),
    ] = None


class GroupOnPopulation(BaseModel):
    kind: Annotated[Literal["accepted", "watched"], Field(examples=["accepted"], title="Kind")]
    group: Annotated[
        str,
        Field(
            description='The rule, or "group model" for a group a model names.',
            examples=['sex == "Female" and age >= 50'],
            title="Group",
        ),
    ]
    submission_id: Annotated[int | None, Field(examples=[42], title="Submission Id")]
    team: Annotated[str | None, Field(examples=["Fairness Hunters"], title="Team")]
    version: Annotated[
        int | None,
        Field(
            description="For accepted groups: the version their patch made.",
            examples=[2],
            title="Version",
        ),
    ]
    rows: Annotated[
        int, Field(description="The population's rows in the group.", examples=[310], title="Rows")
    ]
    base: Annotated[Figure, Field(description="Under the base model.")]
    before: Annotated[
        Figure | None,
        Field(description="Accepted groups: under the version just before the patch."),
    ] = None
    after: Annotated[
        Figure | None, Field(description="Accepted groups: under the version the patch made.")
    ] = None
    head: Annotated[Figure, Field(description="Under the newest measured version.")]


class HistoryPoint(BaseModel):
    version: Annotated[
        int, Field(description="0 is the base model.", examples=[3], title="Version")
    ]
    kind: Annotated[
        str,
        Field(
            description="base (f0), patch (an accepted pair) or pointer (a repair).",
            examples=["patch"],
            title="Kind",
        ),
    ]
    submission_id: Annotated[
        int | None,
        Field(
            description="The accepted submission whose group the node covers: the patched one for a patch node, the repaired one for a pointer node.",
            examples=[42],
            title="Submission Id",
        ),
    ]
    team_id: Annotated[
        int | None, Field(description="The team of that submission.", examples=[7], title="Team Id")
    ]
    team: Annotated[
        str | None,
        Field(description="The name of that team.", examples=["Fairness Hunters"], title="Team"),
    ]
    target_version: Annotated[
        int | None,
        Field(
            description="For pointer nodes: the version whose predictions the group gets back.",
            examples=[None],
            title="Target Version",
        ),
    ]
    created_at: Annotated[
        AwareDatetime, Field(examples=["2026-11-24T12:00:07Z"], title="Created At")
    ]
    holdout_loss: Annotated[
        float | None,
        Field(
            description="Mean holdout loss of this version, as the round's disclosure allows: rounded (to a 1-2-5 step no finer than its largest sampling error, so never an exact count of holdout rows), exact, or null.",
            examples=[0.1523],
            title="Holdout Loss",
        ),
    ]
    train_loss: Annotated[
        float,
        Field(
            description="Mean loss on the public training split (exact).",
            examples=[0.1489],
            title="Train Loss",
        ),
    ]


class Interval(BaseModel):
    low: Annotated[float, Field(examples=[0.0211], title="Low")]
    high: Annotated[float, Field(examples=[0.0477], title="High")]


class JoinTeam(BaseModel):
    invite_code: Annotated[
        str,
        Field(
            description="The team's invite code, as shown to its members.",
            examples=["q3ZkV8hT_xM"],
            max_length=32,
            min_length=1,
            title="Invite Code",
        ),
    ]


class LeaderboardEntry(BaseModel):
    rank: Annotated[
        int | None,
        Field(
            description="1 for the leading team; null for teams with no accepted submission yet (listed after the ranked teams).",
            examples=[1],
            title="Rank",
        ),
    ]
    team_id: Annotated[int, Field(examples=[7], title="Team Id")]
    team: Annotated[
        str, Field(description="The team's name.", examples=["Fairness Hunters"], title="Team")
    ]
    improvement: Annotated[
        float | None,
        Field(
            description="Credited improvement: the sum of the holdout scores of the team's accepted, not disqualified submissions (mean loss units), as the round's disclosure allows: rounded (to a 1-2-5 step no finer than its largest sampling error, so never an exact count of holdout rows), exact, or null.",
            examples=[0.0425],
            title="Improvement",
        ),
    ]
    accepted: Annotated[
        int,
        Field(
            description="Accepted, not disqualified submissions.", examples=[2], title="Accepted"
        ),
    ]
    submissions: Annotated[
        int, Field(description="Every submission of the team.", examples=[9], title="Submissions")
    ]
    last_improvement_at: Annotated[
        AwareDatetime | None,
        Field(
            description="When the team's latest accepted submission was decided.",
            examples=["2026-11-24T12:00:07Z"],
            title="Last Improvement At",
        ),
    ]


class LeaderboardOut(BaseModel):
    round: Annotated[
        str, Field(description="The round's slug.", examples=["adult-income-demo"], title="Round")
    ]
    disclosure: Annotated[
        Literal["rounded", "exact", "none"],
        Field(
            description="How holdout numbers are shown to this caller (always exact for the round's organizer).",
            examples=["rounded"],
            title="Disclosure",
        ),
    ]
    as_of: Annotated[
        AwareDatetime | None,
        Field(
            description="For a frozen round, the moment it was frozen: only verdicts reached by then count. Null otherwise (everything decided so far counts).",
            examples=["2026-12-01T00:00:00Z"],
            title="As Of",
        ),
    ]
    ranked_by: Annotated[
        Literal["improvement", "accepted"],
        Field(
            description="improvement: by the improvement as shown to this caller, then accepted submissions; or, when holdout numbers are not disclosed, accepted submissions. Teams equal on those share a rank (listed by earliest last improvement), so ranks never tell an order the shown figures hide.",
            examples=["improvement"],
            title="Ranked By",
        ),
    ]
    resolution: Annotated[
        float | None,
        Field(
            description="The step holdout means are rounded to for this caller (rounded disclosure, bounded loss); an improvement shown as 0 with accepted submissions is positive but below it. Null when figures are exact or hidden.",
            examples=[0.01],
            title="Resolution",
        ),
    ] = None
    entries: Annotated[list[LeaderboardEntry], Field(title="Entries")]


class MemberAdminOut(BaseModel):
    user_id: Annotated[int, Field(examples=[42], title="User Id")]
    display_name: Annotated[str, Field(examples=["Ada"], title="Display Name")]
    email: Annotated[str, Field(examples=["ada@example.org"], title="Email")]
    joined_at: Annotated[AwareDatetime, Field(examples=["2026-11-10T14:05:00Z"], title="Joined At")]


class MemberOut(BaseModel):
    display_name: Annotated[str, Field(examples=["Ada"], title="Display Name")]
    joined_at: Annotated[AwareDatetime, Field(examples=["2026-11-10T14:05:00Z"], title="Joined At")]


class MyTeamOut(BaseModel):
    id: Annotated[int, Field(examples=[7], title="Id")]
    round_id: Annotated[int, Field(examples=[1], title="Round Id")]
    name: Annotated[str, Field(examples=["Fairness Hunters"], title="Name")]
    invite_code: Annotated[
        str,
        Field(
            description="Share it with people who should join this team.",
            examples=["q3ZkV8hT_xM"],
            title="Invite Code",
        ),
    ]
    max_team_size: Annotated[
        int, Field(description="The round's limit on members.", examples=[5], title="Max Team Size")
    ]
    created_at: Annotated[
        AwareDatetime, Field(examples=["2026-11-10T14:00:00Z"], title="Created At")
    ]
    members: Annotated[
        list[MemberOut], Field(description="In the order they joined.", title="Members")
    ]


class PopulationOut(BaseModel):
    id: Annotated[int, Field(examples=[3], title="Id")]
    name: Annotated[str, Field(examples=["Clinic B, 2026"], title="Name")]
    description: Annotated[
        str,
        Field(
            examples=["Patients seen at clinic B in 2026, labelled a year on."], title="Description"
        ),
    ]
    n_rows: Annotated[int, Field(examples=[4200], title="N Rows")]
    uploaded_by: Annotated[
        int | None, Field(description="The user who added it.", examples=[12], title="Uploaded By")
    ]
    created_at: Annotated[
        AwareDatetime, Field(examples=["2026-12-07T12:00:00Z"], title="Created At")
    ]
    status: Annotated[
        Literal["measuring", "measured", "failed"],
        Field(
            description="measuring: the workers are running the base model or some accepted pair on it; measured: every version of the round's model has figures on it; failed: it cannot be measured (see error).",
            examples=["measured"],
            title="Status",
        ),
    ]
    error: Annotated[str | None, Field(examples=[None], title="Error")] = None


class ProblemError(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    message: Annotated[
        str, Field(examples=["unknown feature 'agee' (did you mean 'age'?)"], title="Message")
    ]
    field: Annotated[str | None, Field(examples=["group_expression"], title="Field")] = None
    location: Annotated[
        list[str | int] | None,
        Field(
            description="Where in the request (validation errors).",
            examples=[["body"]],
            title="Location",
        ),
    ] = None
    offset: Annotated[
        int | None,
        Field(
            description="0-based character offset in an expression.", examples=[0], title="Offset"
        ),
    ] = None
    line: Annotated[int | None, Field(description="1-based line.", examples=[1], title="Line")] = (
        None
    )
    column: Annotated[
        int | None, Field(description="1-based column.", examples=[1], title="Column")
    ] = None


class QuotaOut(BaseModel):
    limit: Annotated[int, Field(examples=[10], title="Limit")]
    used: Annotated[int, Field(examples=[3], title="Used")]
    remaining: Annotated[int, Field(examples=[7], title="Remaining")]
    resets_at: Annotated[AwareDatetime, Field(examples=["2026-11-25T00:00:00Z"], title="Resets At")]


class RepairOut(BaseModel):
    version: Annotated[
        int, Field(description="The version the pointer node made.", examples=[4], title="Version")
    ]
    submission_id: Annotated[
        int,
        Field(
            description="The submission whose group was repaired.",
            examples=[17],
            title="Submission Id",
        ),
    ]
    target_version: Annotated[
        int,
        Field(
            description="The version whose predictions it restored.",
            examples=[1],
            title="Target Version",
        ),
    ]


class ReplayOut(BaseModel):
    head_version_before: Annotated[int, Field(examples=[4], title="Head Version Before")]
    head_version_after: Annotated[int, Field(examples=[3], title="Head Version After")]
    changed_submissions: Annotated[
        list[int],
        Field(
            description="Submissions whose outcome changed (the disqualified one included).",
            examples=[[42, 45]],
            title="Changed Submissions",
        ),
    ]


class Slug2(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="URL name (lowercase letters, digits, dashes); derived from the title if omitted. Must be unique.",
            examples=["income-autumn-2026"],
            pattern="^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$",
            title="Slug",
        ),
    ]


class LossClip(RootModel[float]):
    root: Annotated[
        float,
        Field(
            description="Upper bound on the squared/absolute error of a row; not for zero_one.",
            examples=[4.0],
            gt=0.0,
            title="Loss Clip",
        ),
    ]


class RoundCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    title: Annotated[
        str,
        Field(
            description="The round's name, shown everywhere.",
            examples=["Income prediction, autumn 2026"],
            max_length=200,
            min_length=1,
            title="Title",
        ),
    ]
    slug: Annotated[
        Slug2 | None,
        Field(
            description="URL name (lowercase letters, digits, dashes); derived from the title if omitted. Must be unique.",
            examples=["income-autumn-2026"],
            title="Slug",
        ),
    ] = None
    description: Annotated[
        str | None,
        Field(
            description="What the round is about, in Markdown (stored and returned as is).",
            examples=["Find the people our **income model** fails, and fix it for them."],
            max_length=100000,
            title="Description",
        ),
    ] = ""
    loss: Annotated[
        Literal["zero_one", "cost", "squared", "absolute"] | None,
        Field(
            description="Per-row loss: zero_one or cost (classification, cost weighs each kind of error by loss_costs), squared or absolute (regression).",
            examples=["zero_one"],
            title="LossKind",
        ),
    ] = "zero_one"
    loss_clip: Annotated[
        LossClip | None,
        Field(
            description="Upper bound on the squared/absolute error of a row; not for zero_one.",
            examples=[4.0],
            title="Loss Clip",
        ),
    ] = None
    loss_costs: Annotated[
        list[list[int]] | None,
        Field(
            description="cost only: loss_costs[i][j] is the cost of predicting class j when the truth is class i (classes in the label's order, as the round's schema lists them), whole numbers from 0 to 1,000,000. [[0, 3], [1, 0]]: a false positive costs 3, a false negative 1.",
            examples=[[[0, 3], [1, 0]]],
            title="Loss Costs",
        ),
    ] = None
    alpha: Annotated[
        float | None,
        Field(
            description="Minimum score of an accepted pair, in loss units per holdout row: the pair must lower the holdout's total loss by at least alpha * n_holdout. The default, 0.002, is 2 rows per 1,000 holdout rows for zero_one: keep alpha * n_holdout above one row's largest loss (1 for zero_one, the clip for a clipped loss), or a pair that changes a single row is accepted exactly when the change is right, which reveals that row's label (alpha_meaning says what alpha means on the round's holdout).",
            examples=[0.002],
            ge=0.0,
            title="Alpha",
        ),
    ] = 0.002
    min_group_rows: Annotated[
        int | None,
        Field(
            description="Fewest holdout rows a group must contain (default 30, so that a group is not one person).",
            examples=[30],
            ge=1,
            title="Min Group Rows",
        ),
    ] = 30
    repair_alpha: Annotated[
        float | None,
        Field(
            description="Tolerance (loss units per holdout row) before an earlier group is repaired.",
            examples=[0.0005],
            ge=0.0,
            title="Repair Alpha",
        ),
    ] = 0.0
    acceptance_test: Annotated[
        Literal["significance", "threshold"] | None,
        Field(
            description="How an improvement is judged enough. significance (default): the pair must also pass a one-sided paired test on its group's holdout rows (exact sign test for zero_one, paired t-test otherwise), at a level that spends the round's error budget, 1 - confidence, over its submissions; an accepted pair then improves the model on its group with at least that confidence. threshold: any exact holdout improvement of at least alpha (no claim about fresh data).",
            examples=["significance"],
            title="AcceptanceTest",
        ),
    ] = "significance"
    confidence: Annotated[
        float | None,
        Field(
            description="significance only: the chance that no accepted pair of the round is noise (its error budget is 1 - confidence).",
            examples=[0.95],
            ge=0.5,
            lt=1.0,
            title="Confidence",
        ),
    ] = 0.95
    planned_submissions: Annotated[
        int | None,
        Field(
            description="significance only: how many submissions the round expects. The first ones are tested at about (1 - confidence) / planned each; later ones at quickly smaller levels, so the budget holds however many come.",
            examples=[1000],
            ge=1,
            le=10000000,
            title="Planned Submissions",
        ),
    ] = 1000
    test_guard: Annotated[
        bool | None,
        Field(
            description="Hold for the organizer's review (not splice in) a pair that passes on the holdout but makes the model worse on the sealed test split beyond its 95% interval, or would leave the model worse there than the base model. The organizer releases or leaves it; the test split then informs decisions, so it is less of a fresh check.",
            examples=[False],
            title="Test Guard",
        ),
    ] = False
    daily_quota: Annotated[
        int | None,
        Field(
            description="Submissions per team per UTC day, failed ones included.",
            examples=[10],
            ge=1,
            le=10000,
            title="Daily Quota",
        ),
    ] = 10
    disclosure: Annotated[
        Literal["rounded", "exact", "none"] | None,
        Field(
            description="What participants learn from the holdout. rounded (default): the outcome and one reason, not_accepted, for every rejection; holdout numbers for accepted pairs only, rounded to a step no finer than their sampling error. exact (classroom mode): the engine's reason (group_too_small, no_improvement, below_threshold, not_significant) and exact holdout numbers for accepted pairs; it lets a participant learn holdout labels and voids the significance guarantee for pairs built from those answers. none: as rounded, with no holdout numbers at all. Organizers always see everything exactly; train-split statistics are always shown.",
            examples=["rounded"],
            title="Disclosure",
        ),
    ] = "rounded"
    max_team_size: Annotated[
        int | None,
        Field(
            description="Most members a team may have.",
            examples=[5],
            ge=1,
            le=1000,
            title="Max Team Size",
        ),
    ] = 5
    opens_at: Annotated[
        AwareDatetime | None,
        Field(
            description="Planned time (with a timezone); informational, optional.",
            examples=["2026-11-02T00:00:00Z"],
            title="Opens At",
        ),
    ] = None
    closes_at: Annotated[
        AwareDatetime | None,
        Field(
            description="Planned time (with a timezone); informational, optional.",
            examples=["2026-12-01T00:00:00Z"],
            title="Closes At",
        ),
    ] = None


class Title(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="The round's name, shown everywhere.",
            examples=["Income prediction, autumn 2026"],
            max_length=200,
            min_length=1,
            title="Title",
        ),
    ]


class Description(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="What the round is about, in Markdown (stored and returned as is).",
            examples=["Find the people our **income model** fails, and fix it for them."],
            max_length=100000,
            title="Description",
        ),
    ]


class Alpha(RootModel[float]):
    root: Annotated[
        float,
        Field(
            description="Minimum score of an accepted pair, in loss units per holdout row: the pair must lower the holdout's total loss by at least alpha * n_holdout. The default, 0.002, is 2 rows per 1,000 holdout rows for zero_one: keep alpha * n_holdout above one row's largest loss (1 for zero_one, the clip for a clipped loss), or a pair that changes a single row is accepted exactly when the change is right, which reveals that row's label (alpha_meaning says what alpha means on the round's holdout).",
            examples=[0.002],
            ge=0.0,
            title="Alpha",
        ),
    ]


class MinGroupRows(RootModel[int]):
    root: Annotated[
        int,
        Field(
            description="Fewest holdout rows a group must contain (default 30, so that a group is not one person).",
            examples=[30],
            ge=1,
            title="Min Group Rows",
        ),
    ]


class RepairAlpha(RootModel[float]):
    root: Annotated[
        float,
        Field(
            description="Tolerance (loss units per holdout row) before an earlier group is repaired.",
            examples=[0.0005],
            ge=0.0,
            title="Repair Alpha",
        ),
    ]


class Confidence(RootModel[float]):
    root: Annotated[
        float,
        Field(
            description="significance only: the chance that no accepted pair of the round is noise (its error budget is 1 - confidence).",
            examples=[0.95],
            ge=0.5,
            lt=1.0,
            title="Confidence",
        ),
    ]


class PlannedSubmissions(RootModel[int]):
    root: Annotated[
        int,
        Field(
            description="significance only: how many submissions the round expects. The first ones are tested at about (1 - confidence) / planned each; later ones at quickly smaller levels, so the budget holds however many come.",
            examples=[1000],
            ge=1,
            le=10000000,
            title="Planned Submissions",
        ),
    ]


class DailyQuota(RootModel[int]):
    root: Annotated[
        int,
        Field(
            description="Submissions per team per UTC day, failed ones included.",
            examples=[10],
            ge=1,
            le=10000,
            title="Daily Quota",
        ),
    ]


class MaxTeamSize(RootModel[int]):
    root: Annotated[
        int,
        Field(
            description="Most members a team may have.",
            examples=[5],
            ge=1,
            le=1000,
            title="Max Team Size",
        ),
    ]


class RoundUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    title: Annotated[Title | None, Field(title="Title")] = None
    description: Annotated[Description | None, Field(title="Description")] = None
    loss: Literal["zero_one", "cost", "squared", "absolute"] | None = None
    loss_clip: Annotated[
        LossClip | None,
        Field(
            description="Upper bound on the squared/absolute error of a row; not for zero_one.",
            examples=[4.0],
            title="Loss Clip",
        ),
    ] = None
    loss_costs: Annotated[
        list[list[int]] | None,
        Field(
            description="cost only: loss_costs[i][j] is the cost of predicting class j when the truth is class i (classes in the label's order, as the round's schema lists them), whole numbers from 0 to 1,000,000. [[0, 3], [1, 0]]: a false positive costs 3, a false negative 1.",
            examples=[[[0, 3], [1, 0]]],
            title="Loss Costs",
        ),
    ] = None
    alpha: Annotated[Alpha | None, Field(title="Alpha")] = None
    min_group_rows: Annotated[MinGroupRows | None, Field(title="Min Group Rows")] = None
    repair_alpha: Annotated[RepairAlpha | None, Field(title="Repair Alpha")] = None
    acceptance_test: Literal["significance", "threshold"] | None = None
    confidence: Annotated[Confidence | None, Field(title="Confidence")] = None
    planned_submissions: Annotated[
        PlannedSubmissions | None, Field(title="Planned Submissions")
    ] = None
    test_guard: Annotated[bool | None, Field(title="Test Guard")] = None
    daily_quota: Annotated[DailyQuota | None, Field(title="Daily Quota")] = None
    disclosure: Literal["rounded", "exact", "none"] | None = None
    max_team_size: Annotated[MaxTeamSize | None, Field(title="Max Team Size")] = None
    opens_at: Annotated[
        AwareDatetime | None,
        Field(
            description="Planned time (with a timezone); informational, optional.",
            examples=["2026-11-02T00:00:00Z"],
            title="Opens At",
        ),
    ] = None
    closes_at: Annotated[
        AwareDatetime | None,
        Field(
            description="Planned time (with a timezone); informational, optional.",
            examples=["2026-12-01T00:00:00Z"],
            title="Closes At",
        ),
    ] = None


class RulesOut(BaseModel):
    loss: Annotated[
        Literal["zero_one", "cost", "squared", "absolute"],
        Field(
            description="The loss a round is scored with.", examples=["zero_one"], title="LossKind"
        ),
    ]
    loss_clip: Annotated[float | None, Field(examples=[None], title="Loss Clip")]
    loss_costs: Annotated[list[list[int]] | None, Field(examples=[None], title="Loss Costs")] = None
    alpha: Annotated[float, Field(examples=[0.002], title="Alpha")]
    min_group_rows: Annotated[int, Field(examples=[30], title="Min Group Rows")]
    repair_alpha: Annotated[float, Field(examples=[0.0], title="Repair Alpha")]
    acceptance_test: Annotated[
        Literal["significance", "threshold"],
        Field(
            description="How a round decides that an improvement is enough.",
            examples=["significance"],
            title="AcceptanceTest",
        ),
    ]
    confidence: Annotated[float, Field(examples=[0.95], title="Confidence")]
    planned_submissions: Annotated[int, Field(examples=[1000], title="Planned Submissions")]
    test_guard: Annotated[bool, Field(examples=[False], title="Test Guard")]
    daily_quota: Annotated[int, Field(examples=[10], title="Daily Quota")]
    disclosure: Annotated[
        Literal["rounded", "exact", "none"],
        Field(
            description="Which holdout numbers participants see (docs/disclosure.md).",
            examples=["rounded"],
            title="Disclosure",
        ),
    ]
    max_team_size: Annotated[int, Field(examples=[5], title="Max Team Size")]


class SignUp(BaseModel):
    email: Annotated[EmailStr, Field(examples=["ada@example.org"], title="Email")]
    display_name: Annotated[
        str, Field(examples=["Ada"], max_length=100, min_length=1, title="Display Name")
    ]
    password: Annotated[
        str,
        Field(examples=["correct-horse-battery"], max_length=200, min_length=10, title="Password"),
    ]


class SignificanceOut(BaseModel):
    method: Annotated[
        str,
        Field(
            description="sign (exact sign test) or t (paired t-test).",
            examples=["sign"],
            title="Method",
        ),
    ]
    index: Annotated[
        int,
        Field(
            description="The pair's place among the round's tested pairs.",
            examples=[12],
            title="Index",
        ),
    ]
    level: Annotated[
        float,
        Field(
            description="The significance level it was tested at.",
            examples=[4.9e-05],
            title="Level",
        ),
    ]
    p_value: Annotated[float, Field(examples=[3.1e-07], title="P Value")]
    lower_bound: Annotated[
        float,
        Field(
            description="Lower confidence bound, at that level, on the group's mean loss reduction per group row.",
            examples=[0.021],
            title="Lower Bound",
        ),
    ]


class SplitLoss(BaseModel):
    base: Annotated[float | None, Field(examples=[0.1523], title="Base")]
    final: Annotated[float | None, Field(examples=[0.1098], title="Final")]
    improvement: Annotated[float | None, Field(examples=[0.0425], title="Improvement")]
    improvement_interval: Annotated[
        Interval | None,
        Field(description="95% interval of the improvement as an estimate on new data."),
    ] = None


class SplitStatsOut(BaseModel):
    false_positive_rate_before: Annotated[
        float | None,
        Field(
            description="Of the group's rows whose truth is negative, the share the current model predicts positive; two-class rounds only (null otherwise, or when the group has no row of that true class); the positive class is the label's second class; holdout rates are rounded, unless the round discloses exactly, to a step of at least 1 / (2 sqrt(rows of that true class)).",
            examples=[0.082],
            title="False Positive Rate Before",
        ),
    ] = None
    false_positive_rate_after: Annotated[
        float | None,
        Field(
            description="The same share under h; two-class rounds only (null otherwise, or when the group has no row of that true class); the positive class is the label's second class; holdout rates are rounded, unless the round discloses exactly, to a step of at least 1 / (2 sqrt(rows of that true class)).",
            examples=[0.05],
            title="False Positive Rate After",
        ),
    ] = None
    false_negative_rate_before: Annotated[
        float | None,
        Field(
            description="Of the group's rows whose truth is positive, the share the current model predicts negative; two-class rounds only (null otherwise, or when the group has no row of that true class); the positive class is the label's second class; holdout rates are rounded, unless the round discloses exactly, to a step of at least 1 / (2 sqrt(rows of that true class)).",
            examples=[0.41],
            title="False Negative Rate Before",
        ),
    ] = None
    false_negative_rate_after: Annotated[
        float | None,
        Field(
            description="The same share under h; two-class rounds only (null otherwise, or when the group has no row of that true class); the positive class is the label's second class; holdout rates are rounded, unless the round discloses exactly, to a step of at least 1 / (2 sqrt(rows of that true class)).",
            examples=[0.2],
            title="False Negative Rate After",
        ),
    ] = None
    n_group: Annotated[
        int,
        Field(
            description="Rows of the split in the group (holdout, rounded: to a step of at least half its square root).",
            examples=[412],
            title="N Group",
        ),
    ]
    group_loss_before: Annotated[
        float | None,
        Field(
            description="The current model's mean loss on the group's rows (holdout, rounded: to a step of at least scale / (2 sqrt(n_group)), scale being one row's largest loss).",
            examples=[0.2136],
            title="Group Loss Before",
        ),
    ]
    group_loss_after: Annotated[
        float | None,
        Field(
            description="h's mean loss on the group's rows (rounded like group_loss_before).",
            examples=[0.1432],
            title="Group Loss After",
        ),
    ]
    score: Annotated[
        float,
        Field(
            description="(n_group / n) * (group_loss_before - group_loss_after), n the split's rows (holdout, rounded: to a step of at least scale * sqrt(n_group) / (2 n)).",
            examples=[0.0073],
            title="Score",
        ),
    ]


class SubmissionStatus(RootModel[Literal["queued", "running", "evaluated", "decided"]]):
    root: Annotated[
        Literal["queued", "running", "evaluated", "decided"],
        Field(
            description="Where a submission is: queued -> running -> evaluated -> decided.",
            title="SubmissionStatus",
        ),
    ]


class TeamContribution(BaseModel):
    team_id: Annotated[int, Field(examples=[7], title="Team Id")]
    team: Annotated[str, Field(examples=["Fairness Hunters"], title="Team")]
    accepted: Annotated[int, Field(examples=[2], title="Accepted")]
    holdout_improvement: Annotated[float, Field(examples=[0.0425], title="Holdout Improvement")]
    test_improvement: Annotated[float | None, Field(examples=[0.0344], title="Test Improvement")]


class TeamCreate(BaseModel):
    name: Annotated[
        str,
        Field(
            description="1 to 80 characters, stripped and NFKC-normalized; no control characters. Unique in the round, ignoring case and compatibility variants (e.g. fullwidth letters).",
            examples=["Fairness Hunters"],
            max_length=80,
            min_length=1,
            title="Name",
        ),
    ]


class TeamFeatureUsage(BaseModel):
    team_id: Annotated[int, Field(examples=[7], title="Team Id")]
    team: Annotated[str, Field(examples=["Fairness Hunters"], title="Team")]
    rule_groups: Annotated[
        int,
        Field(description="Submissions whose group is a rule.", examples=[12], title="Rule Groups"),
    ]
    model_groups: Annotated[
        int,
        Field(
            description="Submissions whose group is a model (their features are unknown).",
            examples=[1],
            title="Model Groups",
        ),
    ]
    counts: Annotated[
        list[int],
        Field(
            description="For each feature of ``features`` (same order), how many of the team's rule groups read it.",
            examples=[[3, 0, 12]],
            title="Counts",
        ),
    ]


class TeamOut(BaseModel):
    id: Annotated[int, Field(examples=[7], title="Id")]
    name: Annotated[str, Field(examples=["Fairness Hunters"], title="Name")]
    member_count: Annotated[
        int, Field(description="Current number of members.", examples=[3], title="Member Count")
    ]
    created_at: Annotated[
        AwareDatetime, Field(examples=["2026-11-10T14:00:00Z"], title="Created At")
    ]


class TokenOut(BaseModel):
    access_token: Annotated[
        str,
        Field(examples=["bbt_x2xSqvJErcFbUz0zwgzJ_pLkSLjh-eNxeDQQ1XMLmDU"], title="Access Token"),
    ]
    token_type: Annotated[str | None, Field(examples=["bearer"], title="Token Type")] = "bearer"
    expires_in: Annotated[
        int,
        Field(description="Seconds until the token expires.", examples=[3600], title="Expires In"),
    ]


class UserOut(BaseModel):
    id: Annotated[int, Field(examples=[42], title="Id")]
    email: Annotated[str, Field(examples=["ada@example.org"], title="Email")]
    display_name: Annotated[str, Field(examples=["Ada"], title="Display Name")]
    role: Annotated[
        Literal["participant", "organizer"],
        Field(
            description="What a user may do: organizers run rounds, participants enter them.",
            title="Role",
        ),
    ]
    created_at: Annotated[
        AwareDatetime, Field(examples=["2026-11-01T08:30:00Z"], title="Created At")
    ]


class VerdictOut(BaseModel):
    outcome: Annotated[
        str,
        Field(description="accepted, rejected or invalid.", examples=["accepted"], title="Outcome"),
    ]
    reason: Annotated[
        str,
        Field(
            description="accepted, invalid, disqualified, or why the pair was rejected: on rounds that disclose exactly (classroom mode) and for the round's organizer, group_too_small, no_improvement, below_threshold or not_significant; otherwise not_accepted, whichever it was (the difference would reveal holdout labels).",
            examples=["accepted"],
            title="Reason",
        ),
    ]
    message: Annotated[
        str, Field(examples=["accepted: the pair was spliced into the model"], title="Message")
    ]
    version: Annotated[
        int | None,
        Field(
            description="The model version this submission created.", examples=[3], title="Version"
        ),
    ]
    train: Annotated[
        SplitStatsOut | None, Field(description="The same statistics on the public train split.")
    ]
    holdout: Annotated[
        SplitStatsOut | None,
        Field(
            description="Holdout statistics: accepted submissions only, rounded or exact by the round's disclosure setting, or never."
        ),
    ]
    repairs: Annotated[list[RepairOut] | None, Field(title="Repairs")] = None
    significance: Annotated[
        SignificanceOut | None,
        Field(
            description="The significance test: for the round's organizer, and for participants on rounds that disclose exactly (accepted pairs)."
        ),
    ] = None


class VersionChange(BaseModel):
    version: Annotated[int, Field(examples=[3], title="Version")]
    kind: Annotated[
        str, Field(description="base, patch or pointer.", examples=["patch"], title="Kind")
    ]
    submission_id: Annotated[int | None, Field(examples=[42], title="Submission Id")]
    holdout_loss: Annotated[float, Field(examples=[0.1431], title="Holdout Loss")]
    test_loss: Annotated[float | None, Field(examples=[0.1502], title="Test Loss")]
    holdout_change: Annotated[
        float | None,
        Field(
            description="Loss of the previous version minus this one's, on the holdout (positive: better).",
            examples=[0.0073],
            title="Holdout Change",
        ),
    ]
    test_change: Annotated[float | None, Field(examples=[0.0061], title="Test Change")]
    test_change_interval: Interval | None = None


class VersionOnPopulation(BaseModel):
    false_positive_rate: Annotated[
        float | None, Field(examples=[0.08], title="False Positive Rate")
    ] = None
    false_negative_rate: Annotated[
        float | None, Field(examples=[0.31], title="False Negative Rate")
    ] = None
    loss: Annotated[
        float | None,
        Field(description="Mean loss (null on no rows).", examples=[0.152], title="Loss"),
    ]
    version: Annotated[int, Field(examples=[2], title="Version")]
    kind: Annotated[
        str, Field(description="base, patch or pointer.", examples=["patch"], title="Kind")
    ]
    submission_id: Annotated[int | None, Field(examples=[42], title="Submission Id")]
    holdout_loss: Annotated[
        float | None,
        Field(
            description="The same version's mean holdout loss, for comparison (the round's organizer only; null for deployers).",
            examples=[0.148],
            title="Holdout Loss",
        ),
    ]


class VersionOut(BaseModel):
    version: Annotated[int, Field(examples=[0], title="Version")]
    kind: Annotated[
        str, Field(description="base, patch or pointer.", examples=["base"], title="Kind")
    ]
    submission_id: Annotated[int | None, Field(examples=[None], title="Submission Id")]
    target_version: Annotated[
        int | None,
        Field(
            description="For pointer nodes: the version whose predictions are restored.",
            examples=[None],
            title="Target Version",
        ),
    ]
    train_loss: Annotated[
        float,
        Field(
            description="Mean loss on the public training split (exact).",
            examples=[0.1489],
            title="Train Loss",
        ),
    ]
    holdout_loss: Annotated[
        float | None,
        Field(
            description="Mean holdout loss: rounded (to a 1-2-5 step no finer than half a row's loss over sqrt(n_holdout), so that version-to-version differences do not count rows), exact, or null, as the round's disclosure says (exact for its organizer).",
            examples=[0.15],
            title="Holdout Loss",
        ),
    ]
    test_loss: Annotated[
        float | None,
        Field(
            description="Mean loss on the sealed test split; organizer only.",
            examples=[0.1531],
            title="Test Loss",
        ),
    ] = None
    created_at: Annotated[
        AwareDatetime, Field(examples=["2026-11-01T09:05:00Z"], title="Created At")
    ]


class WatchedGroupIn(BaseModel):
    expression: Annotated[
        str, Field(examples=["age >= 65"], max_length=2000, min_length=1, title="Expression")
    ]


class WatchedGroupOut(BaseModel):
    id: Annotated[int, Field(examples=[1], title="Id")]
    expression: Annotated[str, Field(examples=["age >= 65"], title="Expression")]


class ProblemDetails(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Annotated[
        str,
        Field(
            description="A stable identifier of the kind of problem; branch on this. The document's x-problem-types lists every type with its status and title.",
            examples=["/problems/unknown-feature"],
            title="Type",
        ),
    ]
    title: Annotated[
        str,
        Field(
            description="A short summary of the problem type (the same for every problem of a type).",
            examples=["Invalid group expression"],
            title="Title",
        ),
    ]
    status: Annotated[int, Field(examples=[422], title="Status")]
    detail: Annotated[
        str,
        Field(
            description="What went wrong, for people.",
            examples=["unknown feature 'agee' (did you mean 'age'?)"],
            title="Detail",
        ),
    ]
    instance: Annotated[
        str,
        Field(
            description="The request path.",
            examples=["/api/v1/rounds/adult-income-demo/submissions"],
            title="Instance",
        ),
    ]
    request_id: Annotated[
        str | None,
        Field(
            description="Quote it when reporting a problem; the server logs it.",
            examples=["5b1f0c6e2f6a4a8b9d1e3c7a2b4d6f80"],
            title="Request Id",
        ),
    ] = None
    errors: Annotated[
        list[ProblemError] | None,
        Field(description="The causes of a 422, with positions in expressions.", title="Errors"),
    ] = None


class AcceptanceOut(BaseModel):
    test: Annotated[
        Literal["significance", "threshold"],
        Field(
            description="How a round decides that an improvement is enough.",
            examples=["significance"],
            title="AcceptanceTest",
        ),
    ]
    method: Annotated[
        str | None,
        Field(
            description="significance only: sign (exact sign test, zero_one) or t (paired t-test, cost, squared and absolute loss).",
            examples=["sign"],
            title="Method",
        ),
    ]
    confidence: Annotated[float | None, Field(examples=[0.95], title="Confidence")]
    first_level: Annotated[
        float | None,
        Field(
            description="The significance level of the round's first tested pair.",
            examples=[4.995e-05],
            title="First Level",
        ),
    ]
    planned_level: Annotated[
        float | None,
        Field(
            description="The level of the last planned submission (later ones: smaller).",
            examples=[1.2506e-05],
            title="Planned Level",
        ),
    ]
    guarantee: Annotated[
        str,
        Field(
            examples=[
                "An accepted pair improves the model on its group with at least 95% confidence."
            ],
            title="Guarantee",
        ),
    ]
    details: Annotated[
        str,
        Field(
            examples=[
                "Each pair is tested against the current model on its group's holdout rows ..."
            ],
            title="Details",
        ),
    ]


class AcceptedGroupOut(BaseModel):
    false_positive_rate_before: Annotated[
        float | None,
        Field(
            description="Of the group's rows whose truth is negative, the share the current model predicts positive; two-class rounds only (null otherwise, or when the group has no row of that true class); the positive class is the label's second class; holdout rates are rounded, unless the round discloses exactly, to a step of at least 1 / (2 sqrt(rows of that true class)).",
            examples=[0.082],
            title="False Positive Rate Before",
        ),
    ] = None
    false_positive_rate_after: Annotated[
        float | None,
        Field(
            description="The same share under h; two-class rounds only (null otherwise, or when the group has no row of that true class); the positive class is the label's second class; holdout rates are rounded, unless the round discloses exactly, to a step of at least 1 / (2 sqrt(rows of that true class)).",
            examples=[0.05],
            title="False Positive Rate After",
        ),
    ] = None
    false_negative_rate_before: Annotated[
        float | None,
        Field(
            description="Of the group's rows whose truth is positive, the share the current model predicts negative; two-class rounds only (null otherwise, or when the group has no row of that true class); the positive class is the label's second class; holdout rates are rounded, unless the round discloses exactly, to a step of at least 1 / (2 sqrt(rows of that true class)).",
            examples=[0.41],
            title="False Negative Rate Before",
        ),
    ] = None
    false_negative_rate_after: Annotated[
        float | None,
        Field(
            description="The same share under h; two-class rounds only (null otherwise, or when the group has no row of that true class); the positive class is the label's second class; holdout rates are rounded, unless the round discloses exactly, to a step of at least 1 / (2 sqrt(rows of that true class)).",
            examples=[0.2],
            title="False Negative Rate After",
        ),
    ] = None
    submission_id: Annotated[int, Field(examples=[42], title="Submission Id")]
    team_id: Annotated[int, Field(examples=[7], title="Team Id")]
    team: Annotated[str, Field(examples=["Fairness Hunters"], title="Team")]
    group: Annotated[
        str,
        Field(
            description='The group\'s expression, or "group model" for a model group.',
            examples=['sex == "Female" and age >= 50'],
            title="Group",
        ),
    ]
    group_kind: Annotated[Literal["rule", "model"], Field(examples=["rule"], title="Group Kind")]
    n_group: Annotated[
        int | None,
        Field(
            description="Holdout rows in the group: exact, rounded (to a 1-2-5 step of at least half its square root), or null, as the round's disclosure allows.",
            examples=[412],
            title="N Group",
        ),
    ]
    group_loss_before: Annotated[
        float | None,
        Field(
            description="The head model's loss on the group's holdout rows before, as the round's disclosure allows: rounded (to a 1-2-5 step no finer than its largest sampling error, so never an exact count of holdout rows), exact, or null.",
            examples=[0.2136],
            title="Group Loss Before",
        ),
    ]
    group_loss_after: Annotated[
        float | None,
        Field(
            description="The patch model's loss on the group's holdout rows, as the round's disclosure allows: rounded (to a 1-2-5 step no finer than its largest sampling error, so never an exact count of holdout rows), exact, or null.",
            examples=[0.1432],
            title="Group Loss After",
        ),
    ]
    score: Annotated[
        float | None,
        Field(
            description="The holdout score, as the round's disclosure allows: rounded (to a 1-2-5 step no finer than its largest sampling error, so never an exact count of holdout rows), exact, or null.",
            examples=[0.0073],
            title="Score",
        ),
    ]
    version: Annotated[
        int | None,
        Field(description="The version the submission made.", examples=[3], title="Version"),
    ]
    repairs: Annotated[
        list[RepairOut],
        Field(
            description="Pointer nodes its acceptance added, restoring earlier groups.",
            title="Repairs",
        ),
    ]
    decided_at: Annotated[
        AwareDatetime | None, Field(examples=["2026-11-24T12:00:07Z"], title="Decided At")
    ]


class DataOut(BaseModel):
    label: Annotated[str, Field(examples=["income"], title="Label")]
    task: Annotated[
        Literal["classification", "regression"],
        Field(
            description="What the label is: classes to predict, or a number.",
            examples=["classification"],
            title="Task",
        ),
    ]
    n_features: Annotated[int, Field(examples=[14], title="N Features")]
    n_train: Annotated[int, Field(examples=[12000], title="N Train")]
    n_holdout: Annotated[int, Field(examples=[4000], title="N Holdout")]
    n_test: Annotated[int, Field(examples=[4000], title="N Test")]
    split_fractions: Annotated[
        list[float] | None, Field(examples=[[0.6, 0.2, 0.2]], title="Split Fractions")
    ]
    split_seed: Annotated[
        int | None,
        Field(
            description="Seed of the random split (shown to the organizer only); null when the splits were uploaded separately.",
            examples=[0],
            title="Split Seed",
        ),
    ]


class ExpressionCheckOut(BaseModel):
    expression: Annotated[
        str, Field(examples=['sex == "Female" and age >= 50'], title="Expression")
    ]
    valid: Annotated[bool, Field(examples=[True], title="Valid")]
    canonical: Annotated[
        str | None,
        Field(
            description="The rule normalized (what the platform stores and compares).",
            examples=['(sex == "Female") and (age >= 50)'],
            title="Canonical",
        ),
    ] = None
    columns: Annotated[
        list[str] | None,
        Field(description="The features it reads.", examples=[["age", "sex"]], title="Columns"),
    ] = None
    train_rows: Annotated[
        int | None,
        Field(
            description="Rows of the train split in the group.", examples=[1937], title="Train Rows"
        ),
    ] = None
    train_share: Annotated[
        float | None,
        Field(
            description="The same as a share of the train split.",
            examples=[0.0661],
            title="Train Share",
        ),
    ] = None
    train_loss: Annotated[
        float | None,
        Field(
            description="The current model's mean loss on the group's train rows, by the round's loss (on a cost round, the mean cost of its errors there); null before the round opens or for an empty group.",
            examples=[0.214],
            title="Train Loss",
        ),
    ] = None
    train_false_positive_rate: Annotated[
        float | None,
        Field(
            description="Two-class rounds: of the group's train rows whose truth is negative, the share the current model predicts positive.",
            examples=[0.25],
            title="Train False Positive Rate",
        ),
    ] = None
    train_false_negative_rate: Annotated[
        float | None,
        Field(
            description="Two-class rounds: of the group's train rows whose truth is positive, the share the current model predicts negative.",
            examples=[0.06],
            title="Train False Negative Rate",
        ),
    ] = None
    error: Annotated[
        ProblemError | None,
        Field(description="Why it is not valid, with the position in the text."),
    ] = None


class Feature(BaseModel):
    name: Annotated[str, Field(examples=["age"], title="Name")]
    kind: Annotated[
        Literal["numeric", "categorical"],
        Field(
            description="How a feature column is treated by group rules and models.",
            title="FeatureKind",
        ),
    ]
    categories: Annotated[
        list[str] | None,
        Field(
            description="Sorted categories seen, for categorical features.",
            examples=[["Female", "Male"]],
            title="Categories",
        ),
    ] = None
    min: Annotated[float | None, Field(examples=[17.0], title="Min")] = None
    max: Annotated[float | None, Field(examples=[90.0], title="Max")] = None
    missing: Annotated[
        int | None,
        Field(description="Number of missing values seen.", examples=[0], title="Missing"),
    ] = 0


class FeatureUsageOut(BaseModel):
    round: Annotated[
        str, Field(description="The round's slug.", examples=["adult-income-demo"], title="Round")
    ]
    features: Annotated[
        list[str],
        Field(
            description="The round's feature names: the columns of every row's ``counts``.",
            examples=[["age", "sex", "race"]],
            title="Features",
        ),
    ]
    totals: Annotated[
        list[int],
        Field(
            description="For each feature, how many rule groups of all teams read it.",
            examples=[[5, 2, 14]],
            title="Totals",
        ),
    ]
    teams: Annotated[list[TeamFeatureUsage], Field(title="Teams")]


class GroupLoss(BaseModel):
    submission_id: Annotated[int, Field(examples=[42], title="Submission Id")]
    team: Annotated[str, Field(examples=["Fairness Hunters"], title="Team")]
    group: Annotated[str, Field(examples=['sex == "Female" and age >= 50'], title="Group")]
    holdout_before: Annotated[float | None, Field(examples=[0.2136], title="Holdout Before")]
    holdout_after: Annotated[float | None, Field(examples=[0.1432], title="Holdout After")]
    test_before: Annotated[float | None, Field(examples=[0.2201], title="Test Before")]
    test_after: Annotated[float | None, Field(examples=[0.1538], title="Test After")]
    holdout_score: Annotated[
        float | None,
        Field(
            description="The pair's score on the holdout (what accepted it).",
            examples=[0.0073],
            title="Holdout Score",
        ),
    ] = None
    test_score: Annotated[
        float | None,
        Field(
            description="The same score on the sealed test split.",
            examples=[0.0061],
            title="Test Score",
        ),
    ] = None
    test_score_interval: Interval | None = None
    worse_on_test: Annotated[
        bool | None,
        Field(
            description="Whether the pair made the model worse on test beyond its 95% interval.",
            examples=[False],
            title="Worse On Test",
        ),
    ] = None


class GroupsOut(BaseModel):
    round: Annotated[
        str, Field(description="The round's slug.", examples=["adult-income-demo"], title="Round")
    ]
    disclosure: Annotated[
        Literal["rounded", "exact", "none"],
        Field(
            description="How holdout numbers are shown to this caller (always exact for the round's organizer).",
            examples=["rounded"],
            title="Disclosure",
        ),
    ]
    as_of: Annotated[
        AwareDatetime | None,
        Field(
            description="For a frozen round, the moment it was frozen: only verdicts reached by then count. Null otherwise (everything decided so far counts).",
            examples=["2026-12-01T00:00:00Z"],
            title="As Of",
        ),
    ]
    groups: Annotated[list[AcceptedGroupOut], Field(title="Groups")]


class HistoryOut(BaseModel):
    round: Annotated[
        str, Field(description="The round's slug.", examples=["adult-income-demo"], title="Round")
    ]
    disclosure: Annotated[
        Literal["rounded", "exact", "none"],
        Field(
            description="How holdout numbers are shown to this caller (always exact for the round's organizer).",
            examples=["rounded"],
            title="Disclosure",
        ),
    ]
    as_of: Annotated[
        AwareDatetime | None,
        Field(
            description="For a frozen round, the moment it was frozen: only verdicts reached by then count. Null otherwise (everything decided so far counts).",
            examples=["2026-12-01T00:00:00Z"],
            title="As Of",
        ),
    ]
    versions: Annotated[list[HistoryPoint], Field(title="Versions")]


class LabelInfo(BaseModel):
    name: Annotated[str, Field(examples=["income"], title="Name")]
    task: Annotated[
        Literal["classification", "regression"],
        Field(description="What the label is: classes to predict, or a number.", title="Task"),
    ]
    classes: Annotated[
        list[str | int | float] | None,
        Field(
            description="Sorted class labels, for classification.",
            examples=[["<=50K", ">50K"]],
            title="Classes",
        ),
    ] = None


class PopulationFiguresOut(BaseModel):
    population: PopulationOut
    loss: Annotated[
        str, Field(description="The round's loss.", examples=["zero_one"], title="Loss")
    ]
    head_version: Annotated[
        int, Field(description="The round's newest version.", examples=[4], title="Head Version")
    ]
    measured_version: Annotated[
        int | None,
        Field(
            description="The newest version with figures here (null until the base model ran).",
            examples=[4],
            title="Measured Version",
        ),
    ]
    failed_pair: Annotated[
        str | None,
        Field(
            description="Why the next version has no figures, when its pair failed on this population (later versions build on it, so they have none either).",
            examples=[None],
            title="Failed Pair",
        ),
    ] = None
    versions: Annotated[list[VersionOnPopulation], Field(title="Versions")]
    groups: Annotated[list[GroupOnPopulation], Field(title="Groups")]


class RoundOut(BaseModel):
    id: Annotated[int, Field(examples=[1], title="Id")]
    slug: Annotated[str, Field(examples=["adult-income-demo"], title="Slug")]
    title: Annotated[str, Field(examples=["Income prediction, autumn 2026"], title="Title")]
    description: Annotated[
        str, Field(description="Markdown.", examples=["Find the people ..."], title="Description")
    ]
    status: Annotated[
        Literal["draft", "open", "frozen", "closed"],
        Field(
            description="The lifecycle: draft -> open -> frozen -> closed.",
            examples=["open"],
            title="RoundStatus",
        ),
    ]
    organizer_id: Annotated[int, Field(examples=[1], title="Organizer Id")]
    created_at: Annotated[
        AwareDatetime, Field(examples=["2026-11-01T09:00:00Z"], title="Created At")
    ]
    opens_at: Annotated[
        AwareDatetime | None, Field(examples=["2026-11-02T00:00:00Z"], title="Opens At")
    ]
    closes_at: Annotated[
        AwareDatetime | None, Field(examples=["2026-12-01T00:00:00Z"], title="Closes At")
    ]
    rules: RulesOut
    data: Annotated[
        DataOut | None, Field(description="Null until the organizer uploads a dataset.")
    ]
    base_model: Annotated[BaseModelOut | None, Field(description="Null until a base model is set.")]
    alpha_meaning: Annotated[AlphaMeaning | None, Field(description="Null until there is data.")]
    costs_explained: Annotated[
        str | None,
        Field(
            description="cost loss only: what each kind of error costs, in words (with the label's classes once there is data).",
            examples=[
                "Predicting 1 when the truth is 0 costs 3; predicting 0 when the truth is 1 costs 1; right predictions cost nothing."
            ],
            title="Costs Explained",
        ),
    ] = None
    acceptance: Annotated[
        AcceptanceOut,
        Field(description="What an accepted pair means on this round (its guarantee)."),
    ]
    head_version: Annotated[
        int,
        Field(
            description="The newest model version (0: the base model).",
            examples=[4],
            title="Head Version",
        ),
    ]


class SubmissionOut(BaseModel):
    id: Annotated[int, Field(examples=[42], title="Id")]
    round: Annotated[str, Field(examples=["adult-income-demo"], title="Round")]
    team_id: Annotated[int, Field(examples=[7], title="Team Id")]
    created_at: Annotated[
        AwareDatetime, Field(examples=["2026-11-24T12:00:00Z"], title="Created At")
    ]
    status: Annotated[
        str,
        Field(
            description="queued, running, evaluated or decided.",
            examples=["decided"],
            title="Status",
        ),
    ]
    group_kind: Annotated[str, Field(examples=["rule"], title="Group Kind")]
    group_expression: Annotated[
        str | None, Field(examples=['sex == "Female" and age >= 50'], title="Group Expression")
    ]
    group_columns: Annotated[list[str], Field(examples=[["age", "sex"]], title="Group Columns")]
    note: Annotated[
        str, Field(examples=["Older women with a high income are predicted <=50K."], title="Note")
    ]
    decided_at: Annotated[
        AwareDatetime | None, Field(examples=["2026-11-24T12:00:07Z"], title="Decided At")
    ]
    verdict: VerdictOut | None
    disqualified: Annotated[bool | None, Field(examples=[False], title="Disqualified")] = False
    released: Annotated[
        bool | None,
        Field(
            description="The organizer released it after the test-split guard held it for review.",
            examples=[False],
            title="Released",
        ),
    ] = False
    url: Annotated[str, Field(examples=["/api/v1/submissions/42"], title="Url")]


class ClosingReport(BaseModel):
    status: Annotated[str, Field(examples=["closed"], title="Status")]
    head_version: Annotated[int, Field(examples=[4], title="Head Version")]
    holdout: SplitLoss
    test: SplitLoss
    overfitting_gap: Annotated[
        float | None,
        Field(
            description="Holdout improvement minus test improvement: how much of the gain came from adapting to the holdout.",
            examples=[0.0081],
            title="Overfitting Gap",
        ),
    ]
    teams: Annotated[list[TeamContribution], Field(title="Teams")]
    groups: Annotated[list[GroupLoss], Field(title="Groups")]
    versions: Annotated[list[VersionChange], Field(title="Versions")]


class DisqualifiedOut(BaseModel):
    submission: SubmissionOut
    replay: ReplayOut


class FeatureSchema(BaseModel):
    features: Annotated[list[Feature], Field(title="Features")]
    label: LabelInfo


class ReleasedOut(BaseModel):
    submission: SubmissionOut
    replay: ReplayOut


class RoundImportOut(BaseModel):
    round: RoundOut
    submissions: Annotated[
        int, Field(description="Submissions imported.", examples=[120], title="Submissions")
    ]
    versions: Annotated[
        int,
        Field(
            description="Model versions, reproduced exactly by the replay.",
            examples=[9],
            title="Versions",
        ),
    ]
    verdicts_checked: Annotated[
        int,
        Field(
            description="Verdicts the replay reproduced exactly; the rest were queued again.",
            examples=[118],
            title="Verdicts Checked",
        ),
    ]


class SubmissionAccepted(BaseModel):
    submission: SubmissionOut
    quota: QuotaOut


class DatasetOut(BaseModel):
    feature_schema: Annotated[FeatureSchema, Field(description="Feature columns and the label.")]
    data: DataOut
    alpha_meaning: AlphaMeaning
