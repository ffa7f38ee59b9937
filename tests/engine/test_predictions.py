"""Validating and encoding model outputs, true labels and group masks."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bounty_engine.errors import DataError, PredictionError
from bounty_engine.predictions import (
    decode_predictions,
    encode_group_mask,
    encode_labels,
    encode_predictions,
)
from bounty_engine.schema import LabelInfo, LabelValue, Task

INCOME = LabelInfo(name="income", task=Task.CLASSIFICATION, classes=["<=50K", ">50K"])
BINARY = LabelInfo(name="default", task=Task.CLASSIFICATION, classes=[0, 1])
AMOUNT = LabelInfo(name="amount", task=Task.REGRESSION)


def _classification(classes: list[LabelValue]) -> LabelInfo:
    return LabelInfo(name="y", task=Task.CLASSIFICATION, classes=classes)


# --- classification -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        np.array(["<=50K", ">50K", ">50K"]),
        np.array(["<=50K", ">50K", ">50K"], dtype=object),
        pd.Series(["<=50K", ">50K", ">50K"]).to_numpy(),
        np.array([["<=50K"], [">50K"], [">50K"]]),
    ],
    ids=["unicode", "object", "pandas_str", "column"],
)
def test_string_classes(raw: np.ndarray) -> None:
    codes = encode_predictions(raw, 3, INCOME)
    assert codes.dtype == np.int32
    np.testing.assert_array_equal(codes, [0, 1, 1])


@pytest.mark.parametrize(
    "raw",
    [
        np.array([0, 1, 1]),
        np.array([0, 1, 1], dtype=np.uint8),
        np.array([0.0, 1.0, 1.0]),
        np.array([0.0, 1.0, 1.0], dtype=np.float32),
        np.array([False, True, True]),
        np.array([np.int64(0), 1.0, np.float32(1)], dtype=object),
    ],
    ids=["int", "uint8", "float", "float32", "bool", "mixed_object"],
)
def test_numeric_classes_match_by_value(raw: np.ndarray) -> None:
    np.testing.assert_array_equal(encode_predictions(raw, 3, BINARY), [0, 1, 1])


def test_codes_index_into_the_class_list() -> None:
    label = _classification([-2.5, 0, 7])
    np.testing.assert_array_equal(encode_predictions([7, -2.5, 0, 7], 4, label), [2, 0, 1, 2])


def test_labels_outside_the_label_set_are_named() -> None:
    raw = np.array(["<=50K", "foo", ">50K", "bar", "foo"])
    with pytest.raises(PredictionError) as info:
        encode_predictions(raw, 5, INCOME)
    assert str(info.value) == (
        "predictions contain labels not in the round's label set: 'foo', 'bar'; "
        "expected one of '<=50K', '>50K'"
    )


def test_strings_do_not_match_numbers() -> None:
    with pytest.raises(PredictionError, match=r"label set: '1', '0'; expected one of 0, 1$"):
        encode_predictions(np.array(["1", "0"]), 2, BINARY)
    with pytest.raises(PredictionError, match=r"label set: 1, 0; expected one of '<=50K'"):
        encode_predictions(np.array([1, 0]), 2, INCOME)


def test_many_offending_values_are_summarised() -> None:
    raw = np.arange(20) + 0.5
    with pytest.raises(PredictionError, match=r"0\.5, 1\.5, 2\.5, 3\.5, 4\.5 and 15 more;"):
        encode_predictions(raw, 20, BINARY)


@pytest.mark.parametrize(
    "raw",
    [
        np.array([0.0, np.nan, 1.0, np.inf, -np.inf]),
        np.array([0, None, 1, np.nan, float("inf")], dtype=object),
        np.array(["<=50K", None, ">50K", np.nan, pd.NA], dtype=object),
    ],
    ids=["float", "object_numbers", "object_strings"],
)
def test_missing_predictions_are_counted(raw: np.ndarray) -> None:
    label = INCOME if raw[0] == "<=50K" else BINARY
    with pytest.raises(PredictionError, match=r"^3 predictions are missing or not finite$"):
        encode_predictions(raw, 5, label)


def test_one_missing_prediction_reads_naturally() -> None:
    with pytest.raises(PredictionError, match=r"^1 prediction is missing or not finite$"):
        encode_predictions(np.array([0.0, np.nan]), 2, BINARY)


def test_wrong_length() -> None:
    with pytest.raises(PredictionError, match=r"^the model returned 12 predictions for 10 rows$"):
        encode_predictions(np.zeros(12), 10, BINARY)


@pytest.mark.parametrize("shape", [(10, 2), (2, 5), (10, 1, 1), ()])
def test_wrong_shape(shape: tuple[int, ...]) -> None:
    with pytest.raises(PredictionError, match="expected one value per row"):
        encode_predictions(np.zeros(shape), 10, BINARY)


def test_unhashable_predictions_are_refused() -> None:
    raw = np.empty(2, dtype=object)
    raw[0], raw[1] = [0], [1]
    with pytest.raises(PredictionError, match="plain numbers or strings"):
        encode_predictions(raw, 2, BINARY)


def test_a_million_rows() -> None:
    raw = np.random.default_rng(0).choice(np.array(["<=50K", ">50K"], dtype=object), 10**6)
    codes = encode_predictions(raw, 10**6, INCOME)
    np.testing.assert_array_equal(codes, (raw == ">50K").astype(np.int32))


# --- regression -----------------------------------------------------------------------------


def test_regression_values_become_float64() -> None:
    values = encode_predictions(np.array([[1], [2], [3]], dtype=np.int64), 3, AMOUNT)
    assert values.dtype == np.float64
    np.testing.assert_array_equal(values, [1.0, 2.0, 3.0])


def test_regression_refuses_text() -> None:
    with pytest.raises(PredictionError, match=r"^regression predictions must be numbers; got 'a'$"):
        encode_predictions(np.array([1.5, "a", 2], dtype=object), 3, AMOUNT)
    with pytest.raises(PredictionError, match=r"got '1\.5', 'x'$"):
        encode_predictions(np.array(["1.5", "x"]), 2, AMOUNT)


def test_regression_refuses_missing_values() -> None:
    with pytest.raises(PredictionError, match=r"^2 predictions are missing or not finite$"):
        encode_predictions(np.array([1.0, np.nan, np.inf]), 3, AMOUNT)


# --- true labels ----------------------------------------------------------------------------


def test_labels_from_a_pandas_series() -> None:
    labels = pd.Series([">50K", "<=50K", ">50K"], dtype="category")
    np.testing.assert_array_equal(encode_labels(labels, INCOME), [1, 0, 1])
    np.testing.assert_array_equal(encode_labels(pd.Series([1, 0], dtype="Int64"), BINARY), [1, 0])


def test_bad_labels_are_data_errors() -> None:
    with pytest.raises(DataError, match=r"^1 label is missing or not finite$"):
        encode_labels(pd.Series(["<=50K", None]), INCOME)
    with pytest.raises(
        DataError, match=r"^labels contain values not in the round's label set: '50K\+'; expected"
    ):
        encode_labels(np.array(["<=50K", "50K+"]), INCOME)


# --- decoding -------------------------------------------------------------------------------


def test_decode_returns_the_classes_type() -> None:
    decoded = decode_predictions(np.array([1, 0, 1], dtype=np.int32), INCOME)
    assert decoded.dtype.kind == "U"
    np.testing.assert_array_equal(decoded, [">50K", "<=50K", ">50K"])
    assert decode_predictions(np.array([1]), BINARY).dtype.kind == "i"


def test_decode_refuses_codes_out_of_range() -> None:
    for codes in ([0, 2], [-1]):
        with pytest.raises(ValueError, match="class codes must lie in"):
            decode_predictions(np.array(codes), BINARY)


def test_decode_regression_is_identity() -> None:
    values = decode_predictions(np.array([1, 2]), AMOUNT)
    assert values.dtype == np.float64
    np.testing.assert_array_equal(values, [1.0, 2.0])


# --- group masks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        np.array([0, 1, 1, 0]),
        np.array([False, True, True, False]),
        np.array([0.0, 1.0, 1.0, 0.0]),
        np.array([[0], [1], [1], [0]], dtype=np.uint8),
        np.array([False, 1, 1.0, 0], dtype=object),
    ],
    ids=["int", "bool", "float", "uint8_column", "object"],
)
def test_group_masks(raw: np.ndarray) -> None:
    mask = encode_group_mask(raw, 4)
    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(mask, [False, True, True, False])


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (np.array([0, 1, 2, 2]), "got 2$"),
        (np.array([0.0, 0.5, 1.0, 1.5]), "got 0.5, 1.5$"),
        (np.array(["yes", "no", "yes", "no"]), "got 'yes', 'no'$"),
        (np.array([-1, 0, 1, 1]), "got -1$"),
    ],
    ids=["two", "halves", "text", "minus_one"],
)
def test_group_masks_refuse_other_values(raw: np.ndarray, named: str) -> None:
    with pytest.raises(PredictionError, match="True/False or 0/1 for each row; " + named):
        encode_group_mask(raw, 4)


def test_group_masks_refuse_missing_values_and_wrong_length() -> None:
    with pytest.raises(PredictionError, match=r"^1 group membership is missing or not finite$"):
        encode_group_mask(np.array([1.0, np.nan]), 2)
    with pytest.raises(PredictionError, match="returned 3 group memberships for 2 rows"):
        encode_group_mask(np.array([1, 0, 1]), 2)


# --- properties -----------------------------------------------------------------------------


def _sorted(values: list[int] | list[str] | list[float]) -> list[LabelValue]:
    return sorted(values)


_finite_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
_class_lists = st.one_of(
    st.lists(st.integers(-(2**31), 2**31), min_size=1, max_size=8, unique=True),
    # numpy unicode arrays drop trailing NUL characters, which real labels never have.
    st.lists(
        st.text(st.characters(exclude_characters="\x00"), max_size=6),
        min_size=1,
        max_size=8,
        unique=True,
    ),
    st.lists(_finite_floats, min_size=1, max_size=8, unique=True),
).map(_sorted)


@given(classes=_class_lists, data=st.data())
def test_decode_then_encode_is_identity(classes: list[LabelValue], data: st.DataObject) -> None:
    codes = data.draw(
        hnp.arrays(np.int32, st.integers(0, 50), elements=st.integers(0, len(classes) - 1))
    )
    _check_round_trip(classes, codes)


def test_a_class_with_a_lone_surrogate_round_trips() -> None:
    """Found by hypothesis: Python strings may hold a lone surrogate, which pandas' default
    (Arrow) strings cannot, so the Series of labels keeps the objects as they are."""
    _check_round_trip(["\ud800", "a"], np.array([1, 0, 0], dtype=np.int32))


def _check_round_trip(classes: list[LabelValue], codes: npt.NDArray[np.int32]) -> None:
    label = _classification(classes)
    decoded = decode_predictions(codes, label)
    np.testing.assert_array_equal(encode_predictions(decoded, len(codes), label), codes)
    as_objects = np.array(decoded.tolist(), dtype=object)
    np.testing.assert_array_equal(encode_labels(as_objects, label), codes)
    np.testing.assert_array_equal(encode_labels(pd.Series(as_objects, dtype=object), label), codes)


@given(classes=_class_lists, data=st.data())
def test_encode_then_decode_is_identity(classes: list[LabelValue], data: st.DataObject) -> None:
    label = _classification(classes)
    values = data.draw(st.lists(st.sampled_from(classes), max_size=50))
    codes = encode_predictions(np.array(values, dtype=object), len(values), label)
    assert decode_predictions(codes, label).tolist() == values


@given(hnp.arrays(np.float64, st.integers(0, 50), elements=_finite_floats))
def test_regression_round_trip(values: np.ndarray) -> None:
    encoded = encode_predictions(values, len(values), AMOUNT)
    np.testing.assert_array_equal(decode_predictions(encoded, AMOUNT), values)


@given(
    hnp.arrays(np.bool_, st.integers(0, 50)), st.sampled_from(["bool", "int", "float", "object"])
)
def test_group_mask_representations_agree(mask: np.ndarray, representation: str) -> None:
    raw = mask if representation == "bool" else mask.astype(representation)
    np.testing.assert_array_equal(encode_group_mask(raw, len(mask)), mask)
