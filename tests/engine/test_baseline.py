"""Tests for the default base model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from bounty_engine.baseline import train_default_model
from bounty_engine.data import Split, infer_schema, label_values, prepare_features, split_frame
from bounty_engine.datasets import ADULT_LABEL, base_predictions, load_adult, make_synthetic
from bounty_engine.schema import FeatureSchema, Task


@pytest.fixture(scope="module")
def adult_split() -> tuple[FeatureSchema, Split]:
    frame = load_adult()
    return infer_schema(frame, ADULT_LABEL), split_frame(frame, seed=0)


def test_default_model_on_adult_is_accurate(adult_split: tuple[FeatureSchema, Split]) -> None:
    schema, split = adult_split
    model = train_default_model(split.train, schema)
    assert isinstance(model, Pipeline)
    assert isinstance(model[-1], LogisticRegression)
    predictions = model.predict(prepare_features(split.holdout, schema))
    accuracy = np.mean(predictions == label_values(split.holdout, schema))
    assert accuracy > 0.8


def test_default_model_is_deterministic(adult_split: tuple[FeatureSchema, Split]) -> None:
    schema, split = adult_split
    rows = split.train.iloc[:3000]
    features = prepare_features(split.holdout, schema)
    first = train_default_model(rows, schema).predict_proba(features)
    second = train_default_model(rows, schema).predict_proba(features)
    np.testing.assert_array_equal(first, second)


def test_default_model_ignores_unknown_categories(adult_split: tuple[FeatureSchema, Split]) -> None:
    schema, split = adult_split
    model = train_default_model(split.train.iloc[:2000], schema)
    rows = split.holdout.iloc[:5].copy()
    rows["native_country"] = "Atlantis"
    rows["occupation"] = np.nan
    assert len(model.predict(prepare_features(rows, schema))) == 5


def planted_errors(task: Task) -> tuple[list[float], float]:
    """Per-group and outside-group holdout loss of the default model on synthetic data."""
    data = make_synthetic(30_000, task=task, seed=11)
    schema = infer_schema(data.frame, data.label)
    split = split_frame(data.frame, seed=1)
    model = train_default_model(split.train, schema)
    predictions = model.predict(prepare_features(split.holdout, schema))
    truth = label_values(split.holdout, schema)
    if task is Task.REGRESSION:
        losses = (predictions - truth) ** 2
    else:
        losses = (predictions != truth).astype(float)
    rows = split.holdout.index.to_numpy()
    masks = [mask[rows] for mask in data.planted_masks()]
    outside = ~np.any(masks, axis=0)
    return [float(losses[m].mean()) for m in masks], float(losses[outside].mean())


def test_default_model_fails_on_planted_groups() -> None:
    inside, outside = planted_errors(Task.CLASSIFICATION)
    assert len(inside) == 3
    assert all(error >= 0.3 for error in inside)
    assert outside <= 0.15


def test_default_regression_model_fails_on_planted_groups() -> None:
    inside, outside = planted_errors(Task.REGRESSION)
    assert outside < 0.5
    assert all(loss > 5 * outside for loss in inside)


def test_default_model_agrees_with_base_predictions_outside_groups() -> None:
    data = make_synthetic(20_000, seed=4)
    schema = infer_schema(data.frame, data.label)
    model = train_default_model(data.frame, schema)
    predictions = model.predict(prepare_features(data.frame, schema))
    outside = ~np.any(data.planted_masks(), axis=0)
    agreement = np.mean(predictions[outside] == base_predictions(data)[outside])
    assert agreement > 0.95


@pytest.mark.parametrize("columns", [["num"], ["cat"]])
def test_default_model_with_one_kind_of_feature(columns: list[str]) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "num": rng.normal(size=200),
            "cat": rng.choice(["a", "b", "c"], size=200),
            "y": rng.normal(size=200),
        }
    )[[*columns, "y"]]
    schema = infer_schema(frame, "y")
    model = train_default_model(frame, schema)
    assert isinstance(model[-1], Ridge)
    assert model.predict(prepare_features(frame, schema)).shape == (200,)
