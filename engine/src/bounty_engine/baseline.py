"""Default models: the base model f0 of a round, and a patch model h for a group's rows.

The base model serves organizers who do not upload their own; the patch model is what the demo,
examples and local tools train for a participant's group.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from bounty_engine.data import label_values, prepare_features
from bounty_engine.schema import FeatureKind, FeatureSchema, Task


def train_default_model(frame: pd.DataFrame, schema: FeatureSchema, *, seed: int = 0) -> Pipeline:
    """Fit the documented default base model on ``frame`` (features and label).

    A scikit-learn ``Pipeline``: a ``ColumnTransformer`` that median-imputes and standardizes
    numeric features and most-frequent-imputes and one-hot encodes categorical features
    (unknown categories ignored), followed by ``LogisticRegression(max_iter=1000)`` for
    classification or ``Ridge()`` for regression. It is fitted on
    ``prepare_features(frame, schema)`` and must be given frames in that layout; the fit is
    deterministic.
    """
    pipeline = Pipeline(
        [
            ("features", _feature_transformer(schema)),
            ("model", _estimator(schema.label.task, seed)),
        ]
    )
    pipeline.fit(prepare_features(frame, schema), label_values(frame, schema))
    return pipeline


def train_patch_model(
    frame: pd.DataFrame, schema: FeatureSchema, mask: npt.NDArray[np.bool_], *, seed: int = 0
) -> Pipeline:
    """Fit a gradient-boosting patch model on the rows of ``frame`` selected by ``mask``.

    Categorical features are ordinal-encoded (unknown and missing as -1), numeric ones passed
    through; then ``HistGradientBoostingClassifier`` or ``...Regressor`` by the task.
    """
    encode = ordinal_features(schema)
    estimator = (
        HistGradientBoostingClassifier(random_state=seed)
        if schema.label.task is Task.CLASSIFICATION
        else HistGradientBoostingRegressor(random_state=seed)
    )
    model = Pipeline([("features", encode), ("model", estimator)])
    model.fit(prepare_features(frame, schema).loc[mask], label_values(frame, schema)[mask])
    return model


def ordinal_features(schema: FeatureSchema) -> ColumnTransformer:
    """Categorical features ordinal-encoded (unknown and missing as -1), numeric passed through:
    the input step of tree models."""
    categorical = [f.name for f in schema.features if f.kind is FeatureKind.CATEGORICAL]
    numeric = [f.name for f in schema.features if f.kind is FeatureKind.NUMERIC]
    return ColumnTransformer(
        [
            (
                "categorical",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
                ),
                categorical,
            ),
            ("numeric", "passthrough", numeric),
        ]
    )


def _feature_transformer(schema: FeatureSchema) -> ColumnTransformer:
    numeric = [f.name for f in schema.features if f.kind is FeatureKind.NUMERIC]
    categorical = [f.name for f in schema.features if f.kind is FeatureKind.CATEGORICAL]
    parts: list[tuple[str, Pipeline, list[str]]] = []
    if numeric:
        numeric_steps = Pipeline(
            [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
        )
        parts.append(("numeric", numeric_steps, numeric))
    if categorical:
        categorical_steps = Pipeline(
            [
                ("impute", SimpleImputer(strategy="most_frequent")),
                ("encode", OneHotEncoder(handle_unknown="ignore")),
            ]
        )
        parts.append(("categorical", categorical_steps, categorical))
    return ColumnTransformer(parts)


def _estimator(task: Task, seed: int) -> LogisticRegression | Ridge:
    if task is Task.REGRESSION:
        return Ridge(alpha=1.0, random_state=seed)
    # lbfgs is deterministic; random_state is recorded for other solvers
    return LogisticRegression(max_iter=1000, random_state=seed)
