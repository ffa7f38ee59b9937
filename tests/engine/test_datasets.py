"""Tests for the shipped Adult data and the synthetic generator."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bounty_engine.data import infer_schema, read_table, split_frame
from bounty_engine.datasets import (
    ADULT_LABEL,
    PlantedGroup,
    SyntheticData,
    base_predictions,
    load_adult,
    make_synthetic,
)
from bounty_engine.datasets.adult import ADULT_COLUMNS, build_adult_frame, write_adult_csv
from bounty_engine.schema import FeatureKind, Task

DATA_DIR = Path(__file__).parents[2] / "engine" / "src" / "bounty_engine" / "datasets" / "data"


# --------------------------------------------------------------------------- Adult


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return load_adult()


def test_adult_shape_columns_and_labels(adult: pd.DataFrame) -> None:
    assert adult.shape == (48_842, 15)
    assert tuple(adult.columns) == ADULT_COLUMNS
    assert ADULT_LABEL == "income"
    assert adult[ADULT_LABEL].value_counts().to_dict() == {"<=50K": 37_155, ">50K": 11_687}


def test_adult_values_are_clean(adult: pd.DataFrame) -> None:
    assert adult["age"].dtype == np.int64
    assert adult["sex"].tolist()[:2] == ["Male", "Male"]
    assert int(adult["workclass"].isna().sum()) == 2799
    assert not adult["workclass"].isin(["?", ""]).any()
    assert not adult["native_country"].str.contains(" ", regex=False).any()


def test_adult_schema_inference(adult: pd.DataFrame) -> None:
    schema = infer_schema(adult, ADULT_LABEL)
    assert schema.label.task is Task.CLASSIFICATION
    assert schema.label.classes == ["<=50K", ">50K"]
    numeric = {f.name for f in schema.features if f.kind is FeatureKind.NUMERIC}
    assert numeric == {
        "age",
        "fnlwgt",
        "education_num",
        "capital_gain",
        "capital_loss",
        "hours_per_week",
    }
    assert schema.feature("sex").categories == ["Female", "Male"]
    assert schema.feature("occupation").missing == 2809


def test_adult_data_is_shipped_and_not_gitignored() -> None:
    shipped = DATA_DIR / "adult.csv.gz"
    assert shipped.stat().st_size < 1_000_000
    assert (DATA_DIR / "ADULT-SOURCE.md").read_text().count("Creative Commons Attribution 4.0")
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(shipped)],
        cwd=DATA_DIR,
        check=False,
    )
    assert ignored.returncode == 1


ORIGINAL_ROW = (
    "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, "
    "Male, 2174, 0, 40, United-States, <=50K"
)
ORIGINAL_TEST_ROW = (
    "38, ?, 89814, HS-grad, 9, Married-civ-spouse, ?, Husband, White, Male, 0, 0, 50, ?, >50K."
)


def test_adult_build_from_original_layout(tmp_path: Path) -> None:
    header = "age, workclass, fnlwgt, education, education-num, marital-status, occupation, ..."
    (tmp_path / "adult.data").write_text(f"{header}\n{ORIGINAL_ROW}\n\n")
    (tmp_path / "adult.test").write_text(f"|1x3 Cross validator\n{ORIGINAL_TEST_ROW}\n")
    frame = build_adult_frame(tmp_path)
    assert tuple(frame.columns) == ADULT_COLUMNS
    assert frame[ADULT_LABEL].tolist() == ["<=50K", ">50K"]
    assert frame["capital_gain"].tolist() == [2174, 0]
    assert frame["workclass"].isna().tolist() == [False, True]
    first, second = tmp_path / "one.csv.gz", tmp_path / "two.csv.gz"
    write_adult_csv(frame, first)
    write_adult_csv(frame, second)
    assert first.read_bytes() == second.read_bytes()  # reproducible: no timestamp in the gzip
    pd.testing.assert_frame_equal(read_table(first), frame, check_dtype=False)


# --------------------------------------------------------------------------- synthetic

RULE = re.compile(r'^(c\d+) == "([a-e])" and (x\d+) ([<>]) (-?\d+(?:\.\d+)?)$')


def pandas_mask(frame: pd.DataFrame, expression: str) -> np.ndarray:
    """Evaluate a planted rule with plain pandas, independently of the generator."""
    match = RULE.match(expression)
    assert match, expression
    column, category, numeric, op, bound = match.groups()
    side = frame[numeric] > float(bound) if op == ">" else frame[numeric] < float(bound)
    return np.asarray((frame[column] == category) & side)


def test_synthetic_is_deterministic_by_seed() -> None:
    first, again, other = make_synthetic(2000), make_synthetic(2000), make_synthetic(2000, seed=1)
    pd.testing.assert_frame_equal(first.frame, again.frame)
    assert first.planted == again.planted
    assert not first.frame["x0"].equals(other.frame["x0"])


def test_synthetic_layout() -> None:
    data = make_synthetic(500, n_numeric=3, n_categorical=2, n_planted=2)
    assert isinstance(data, SyntheticData)
    assert list(data.frame.columns) == ["x0", "x1", "x2", "c0", "c1", "y"]
    assert data.label == "y"
    assert set(data.frame["c1"]) <= set("abcde")
    assert set(data.frame["y"].unique()) == {0, 1}
    assert all(isinstance(g, PlantedGroup) for g in data.planted)
    assert len(data.planted) == 2


def test_planted_masks_match_expressions_and_shares() -> None:
    data = make_synthetic(200_000, n_planted=10, seed=5)
    masks = data.planted_masks()
    assert len({g.expression for g in data.planted}) == 10
    for group, mask in zip(data.planted, masks, strict=True):
        np.testing.assert_array_equal(mask, pandas_mask(data.frame, group.expression))
        assert 0.02 <= group.share <= 0.06
        assert abs(mask.mean() - group.share) < 0.005
    assert int(np.sum(masks, axis=0).max()) == 1  # groups are disjoint


def test_base_predictions_are_wrong_inside_groups_only() -> None:
    data = make_synthetic(100_000, seed=2)
    predictions = base_predictions(data)
    truth = data.frame["y"].to_numpy()
    masks = data.planted_masks()
    for mask in masks:
        assert np.mean(predictions[mask] != truth[mask]) >= 0.3
    outside = ~np.any(masks, axis=0)
    assert np.mean(predictions[outside] != truth[outside]) <= 0.15


def test_regression_relation_flips_inside_groups() -> None:
    data = make_synthetic(50_000, task=Task.REGRESSION, seed=3)
    assert data.frame["y"].dtype == np.float64
    assert infer_schema(data.frame, "y").label.task is Task.REGRESSION
    predictions = base_predictions(data)
    truth = data.frame["y"].to_numpy()
    masks = data.planted_masks()
    outside = ~np.any(masks, axis=0)
    outside_mse = np.mean((predictions[outside] - truth[outside]) ** 2)
    assert outside_mse < 0.1
    for mask in masks:
        assert np.mean((predictions[mask] - truth[mask]) ** 2) > 10 * outside_mse


def test_synthetic_splits_keep_masks_aligned() -> None:
    data = make_synthetic(5000)
    split = split_frame(data.frame)
    mask = data.planted_masks()[0]
    holdout_mask = mask[split.holdout.index.to_numpy()]
    expression = data.planted[0].expression
    np.testing.assert_array_equal(holdout_mask, pandas_mask(split.holdout, expression))


def test_synthetic_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="n_planted"):
        make_synthetic(100, n_planted=11)
    with pytest.raises(ValueError, match="categorical"):
        make_synthetic(100, n_categorical=0)
    assert make_synthetic(100, n_categorical=0, n_planted=0).planted == []


def test_synthetic_million_rows() -> None:
    data = make_synthetic(1_000_000, seed=7)
    assert len(data.frame) == 1_000_000
    inside = np.any(data.planted_masks(), axis=0)
    assert 0.10 < inside.mean() < 0.14
    assert base_predictions(data).shape == (1_000_000,)
