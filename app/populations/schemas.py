"""Request and response bodies of the deployment populations' endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.rounds.schemas import SLUG_PATTERN, Title

PopulationStatus = Literal["measuring", "measured", "failed"]


class PopulationOut(BaseModel):
    """A deployment population of a round: its rows never reach participants and never decide."""

    id: int = Field(examples=[3])
    name: str = Field(examples=["Clinic B, 2026"])
    description: str = Field(examples=["Patients seen at clinic B in 2026, labelled a year on."])
    n_rows: int = Field(examples=[4200])
    uploaded_by: int | None = Field(description="The user who added it.", examples=[12])
    created_at: datetime = Field(examples=["2026-12-07T12:00:00Z"])
    status: PopulationStatus = Field(
        description="measuring: the workers are running the base model or some accepted pair on "
        "it; measured: every version of the round's model has figures on it; failed: it "
        "cannot be measured (see error).",
        examples=["measured"],
    )
    error: str | None = Field(default=None, examples=[None])


class Rates(BaseModel):
    """False-positive and false-negative rates (two-class rounds; null otherwise, or with no row
    of that true class). Definitions as fairlearn's."""

    false_positive_rate: float | None = Field(default=None, examples=[0.08])
    false_negative_rate: float | None = Field(default=None, examples=[0.31])


class Figure(Rates):
    """A model's mean loss on some of the population's rows."""

    loss: float | None = Field(description="Mean loss (null on no rows).", examples=[0.152])


class VersionOnPopulation(Figure):
    """One model version measured on the population."""

    version: int = Field(examples=[2])
    kind: str = Field(description="base, patch or pointer.", examples=["patch"])
    submission_id: int | None = Field(examples=[42])
    holdout_loss: float | None = Field(
        description="The same version's mean holdout loss, for comparison (the round's organizer "
        "only; null for deployers).",
        examples=[0.148],
    )


class GroupOnPopulation(BaseModel):
    """A group measured on the population: an accepted pair's group, before and after its
    patch, or a group the organizer named to watch; both under the base and the newest model."""

    kind: Literal["accepted", "watched"] = Field(examples=["accepted"])
    group: str = Field(
        description='The rule, or "group model" for a group a model names.',
        examples=['sex == "Female" and age >= 50'],
    )
    submission_id: int | None = Field(examples=[42])
    team: str | None = Field(examples=["Fairness Hunters"])
    version: int | None = Field(
        description="For accepted groups: the version their patch made.", examples=[2]
    )
    rows: int = Field(description="The population's rows in the group.", examples=[310])
    base: Figure = Field(description="Under the base model.")
    before: Figure | None = Field(
        default=None, description="Accepted groups: under the version just before the patch."
    )
    after: Figure | None = Field(
        default=None, description="Accepted groups: under the version the patch made."
    )
    head: Figure = Field(description="Under the newest measured version.")


class PopulationFiguresOut(BaseModel):
    """Every version of the round's model, and each group, measured on one population."""

    population: PopulationOut
    loss: str = Field(description="The round's loss.", examples=["zero_one"])
    head_version: int = Field(description="The round's newest version.", examples=[4])
    measured_version: int | None = Field(
        description="The newest version with figures here (null until the base model ran).",
        examples=[4],
    )
    failed_pair: str | None = Field(
        default=None,
        description="Why the next version has no figures, when its pair failed on this "
        "population (later versions build on it, so they have none either).",
        examples=[None],
    )
    versions: list[VersionOnPopulation]
    groups: list[GroupOnPopulation]


class DeployerIn(BaseModel):
    """Who to let add populations: a registered user's email address (looked up, not
    validated again: it is whatever they signed up with)."""

    email: str = Field(min_length=3, max_length=320, examples=["analyst@clinic-b.example"])


class DeployerOut(BaseModel):
    """A user who may add populations to the round and read the figures of their own."""

    id: int = Field(examples=[12])
    email: str = Field(examples=["analyst@clinic-b.example"])
    display_name: str = Field(examples=["Clinic B analytics"])


class WatchedGroupIn(BaseModel):
    """A group to measure on every population, as a rule over the round's features."""

    expression: str = Field(min_length=1, max_length=2000, examples=["age >= 65"])


class WatchedGroupOut(BaseModel):
    """A group the organizer named."""

    id: int = Field(examples=[1])
    expression: str = Field(examples=["age >= 65"])


class FollowUpIn(BaseModel):
    """A follow-up round whose holdout is the population."""

    title: Title
    slug: str | None = Field(
        default=None,
        pattern=SLUG_PATTERN,
        max_length=80,
        description="Its slug (default: made from the title).",
        examples=["income-branch-office-2027"],
    )
