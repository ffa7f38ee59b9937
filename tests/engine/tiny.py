"""A four-row round for tests of the model list and bundles."""

from __future__ import annotations

import pandas as pd
from sklearn.dummy import DummyClassifier

from bounty_engine.data import infer_schema
from bounty_engine.models import LoadedModel, dump_sklearn_model, load_model

FRAME = pd.DataFrame({"age": [20.0, 35, 50, 65], "sex": ["F", "M", "F", "M"], "y": [0, 1, 1, 0]})
SCHEMA = infer_schema(FRAME, "y")


def constant_model(value: int) -> LoadedModel:
    """A skops model that predicts ``value`` for every row."""
    model = DummyClassifier(strategy="constant", constant=value)
    return load_model(dump_sklearn_model(model.fit(FRAME[["age"]], [0, 1, 1, 0])))
