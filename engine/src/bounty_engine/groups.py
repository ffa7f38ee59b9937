"""Groups: who a submission is about. A rule over features, or a model that outputs 0/1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from bounty_engine.expressions import Rule, parse_rule
from bounty_engine.models import LoadedModel
from bounty_engine.predictions import encode_group_mask
from bounty_engine.schema import FeatureSchema

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class RuleGroup:
    """A group named by an expression over the round's features."""

    rule: Rule

    @classmethod
    def parse(cls, text: str, schema: FeatureSchema) -> RuleGroup:
        """Parse and validate ``text`` against ``schema``."""
        return cls(parse_rule(text, schema))

    @property
    def columns(self) -> tuple[str, ...]:
        """The features the rule reads."""
        return self.rule.columns

    def mask(self, features: pd.DataFrame) -> BoolArray:
        """Which rows of ``features`` are in the group."""
        return self.rule.evaluate(features)

    def spec(self) -> dict[str, Any]:
        """A JSON description of the group."""
        return {"type": "rule", "expression": self.rule.text}


@dataclass(frozen=True)
class ModelGroup:
    """A group named by a classifier whose output is 0/1 or bool."""

    model: LoadedModel

    @property
    def columns(self) -> tuple[str, ...]:
        """Unknown for a model: it may read any feature."""
        return ()

    def mask(self, features: pd.DataFrame) -> BoolArray:
        """Which rows of ``features`` the model puts in the group."""
        return encode_group_mask(self.model.predict(features), len(features))

    def spec(self) -> dict[str, Any]:
        """A JSON description of the group."""
        return {"type": "model", "format": self.model.format.value, "sha256": self.model.sha256}


Group = RuleGroup | ModelGroup
