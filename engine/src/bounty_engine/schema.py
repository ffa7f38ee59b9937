"""The feature schema of a round: which columns exist, their kinds, and the label."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

LabelValue = str | int | float


class FeatureKind(StrEnum):
    """How a feature column is treated by group rules and models."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class Task(StrEnum):
    """What the label is: classes to predict, or a number."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"


class Feature(BaseModel):
    """One feature column."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(examples=["age"])
    kind: FeatureKind
    categories: list[str] | None = Field(
        default=None,
        description="Sorted categories seen, for categorical features.",
        examples=[["Female", "Male"]],
    )
    min: float | None = Field(default=None, examples=[17.0])
    max: float | None = Field(default=None, examples=[90.0])
    missing: int = Field(default=0, description="Number of missing values seen.", examples=[0])


class LabelInfo(BaseModel):
    """The label column and the learning task."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(examples=["income"])
    task: Task
    classes: list[LabelValue] | None = Field(
        default=None,
        description="Sorted class labels, for classification.",
        examples=[["<=50K", ">50K"]],
    )


class FeatureSchema(BaseModel):
    """Feature columns (in order) and the label of a round's data."""

    model_config = ConfigDict(frozen=True)

    features: list[Feature]
    label: LabelInfo

    @property
    def feature_names(self) -> list[str]:
        """Feature column names, in order."""
        return [f.name for f in self.features]

    def feature(self, name: str) -> Feature:
        """The feature called ``name``; ``KeyError`` if there is none."""
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    def has_feature(self, name: str) -> bool:
        """Whether ``name`` is a feature column."""
        return any(f.name == name for f in self.features)
