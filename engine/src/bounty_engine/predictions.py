"""Validate and encode model outputs: predictions, true labels and group masks.

Classification predictions and labels are encoded as ``int32`` codes, each an index into the
round's sorted ``label.classes``; regression values become ``float64``. Everything here is
vectorized: the only Python-level loops run over distinct values, never over rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Real
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.types import infer_dtype

from bounty_engine.errors import DataError, EngineError, PredictionError
from bounty_engine.schema import LabelInfo, LabelValue, Task

_SHOWN = 5
"""How many offending values an error message quotes."""

# What pandas' ``infer_dtype`` says about object arrays that hold only numbers (or bools).
_NUMERIC_INFERRED = frozenset(
    {"integer", "floating", "mixed-integer-float", "decimal", "boolean", "mixed-integer", "empty"}
)


@dataclass(frozen=True)
class _Subject:
    """What is being encoded, for error messages."""

    noun: str  # plural: "predictions", "labels"
    error: type[EngineError]
    values: str = "values"  # what a prediction or label holds, in "contain ... not in"


_PREDICTIONS = _Subject("predictions", PredictionError, values="labels")
_LABELS = _Subject("labels", DataError)
_GROUP = _Subject("group memberships", PredictionError)


def encode_predictions(raw: npt.ArrayLike, n_rows: int, label: LabelInfo) -> npt.NDArray[Any]:
    """Check a model's raw output against the round's label and encode it.

    Accepts shape ``(n_rows,)`` or ``(n_rows, 1)``. Returns ``int32`` class codes for
    classification and ``float64`` values for regression; raises ``PredictionError`` with a
    message for the participant when the output is unusable.
    """
    values = _one_per_row(raw, n_rows, _PREDICTIONS)
    return _encode(values, label, _PREDICTIONS)


def encode_labels(values: npt.ArrayLike | pd.Series[Any], label: LabelInfo) -> npt.NDArray[Any]:
    """Encode true labels exactly like :func:`encode_predictions`; raises ``DataError``."""
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    array = _one_per_row(array, len(array) if array.ndim else 1, _LABELS)
    return _encode(array, label, _LABELS)


def decode_predictions(codes: npt.ArrayLike, label: LabelInfo) -> npt.NDArray[Any]:
    """Turn encoded predictions back into label values (the inverse of the encoders).

    Classification codes become a numpy array of the classes' type (``str`` classes give a
    unicode array); regression values are returned as ``float64``.
    """
    array = np.asarray(codes)
    if label.task is Task.REGRESSION:
        return array.astype(np.float64)
    classes = np.asarray(_classes(label))
    if array.size and (array.min() < 0 or array.max() >= len(classes)):
        raise ValueError(
            f"class codes must lie in [0, {len(classes)}); got {array.min()} to {array.max()}"
        )
    return classes[array.astype(np.intp)]


def encode_group_mask(raw: npt.ArrayLike, n_rows: int) -> npt.NDArray[np.bool_]:
    """Check a group model's output (bools, or numbers exactly 0/1) and return a bool mask."""
    values = _one_per_row(raw, n_rows, _GROUP)
    if values.dtype.kind == "b":
        return values.astype(np.bool_)
    numbers = _as_float(values)
    if numbers is None:
        raise PredictionError(
            "a group model must return True/False or 0/1 for each row; "
            f"got {_quote(_non_numbers(values))}"
        )
    _check_missing(~np.isfinite(numbers), _GROUP)
    is_one: npt.NDArray[np.bool_] = numbers == 1
    valid = is_one | (numbers == 0)
    if not valid.all():
        raise PredictionError(
            "a group model must return True/False or 0/1 for each row; "
            f"got {_quote(values[~valid])}"
        )
    return is_one


def _one_per_row(raw: npt.ArrayLike, n_rows: int, subject: _Subject) -> npt.NDArray[Any]:
    """``raw`` as a 1-D array of length ``n_rows``; ``(n, 1)`` is accepted."""
    try:
        values = np.asarray(raw)
    except (ValueError, TypeError) as exc:
        raise subject.error(f"the {subject.noun} are not an array: {exc}") from exc
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise subject.error(
            f"the {subject.noun} have shape {values.shape}; expected one value per row"
        )
    if len(values) != n_rows:
        who = "the model returned" if subject is not _LABELS else "there are"
        raise subject.error(f"{who} {len(values)} {subject.noun} for {n_rows} rows")
    return values


def _encode(values: npt.NDArray[Any], label: LabelInfo, subject: _Subject) -> npt.NDArray[Any]:
    if label.task is Task.REGRESSION:
        return _encode_numbers(values, subject)
    return _encode_classes(values, _classes(label), subject)


def _classes(label: LabelInfo) -> list[LabelValue]:
    if not label.classes:
        raise DataError(f"the classification label {label.name!r} has no classes")
    return label.classes


def _encode_numbers(values: npt.NDArray[Any], subject: _Subject) -> npt.NDArray[np.float64]:
    numbers = _as_float(values)
    if numbers is None:
        raise subject.error(
            f"regression {subject.noun} must be numbers; got {_quote(_non_numbers(values))}"
        )
    _check_missing(~np.isfinite(numbers), subject)
    return numbers


def _encode_classes(
    values: npt.NDArray[Any], classes: list[LabelValue], subject: _Subject
) -> npt.NDArray[np.int32]:
    if values.dtype.kind == "U" and all(isinstance(c, str) for c in classes):
        return _encode_unicode(values, classes, subject)
    numbers = _as_float(values)
    keys = values
    if numbers is not None:
        _check_missing(~np.isfinite(numbers), subject)
        # Exact integers keep their own dtype; floats and numeric objects match by value.
        keys = values if values.dtype.kind in "biu" else numbers
    try:
        codes, uniques = pd.factorize(keys)  # missing values (None, NaN) get code -1
    except TypeError as exc:  # unhashable values, such as one list per row
        raise subject.error(f"{subject.noun} must be plain numbers or strings") from exc
    _check_missing(codes < 0, subject)
    distinct = pd.Index(np.asarray(uniques, dtype=object), dtype=object)
    # An object Index compares with Python equality: 1 == 1.0 == np.int64(1), but 1 != "1".
    lookup = pd.Index(classes, dtype=object).get_indexer(distinct)
    if (lookup < 0).any():
        _raise_unknown(distinct[lookup < 0], classes, subject)
    return lookup.astype(np.int32)[codes]


def _encode_unicode(
    values: npt.NDArray[np.str_], classes: list[LabelValue], subject: _Subject
) -> npt.NDArray[np.int32]:
    """Fast path for numpy unicode arrays: binary search instead of hashing."""
    order = np.argsort(np.asarray(classes))
    ordered = np.asarray(classes)[order]
    position = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    found = ordered[position] == values
    if not found.all():
        _raise_unknown(values[~found], classes, subject)
    return order.astype(np.int32)[position]


def _raise_unknown(
    unknown: Iterable[object], classes: list[LabelValue], subject: _Subject
) -> NoReturn:
    raise subject.error(
        f"{subject.noun} contain {subject.values} not in the round's label set: "
        f"{_quote(unknown)}; "
        f"expected one of {_quote(classes, limit=len(classes))}"
    )


def _as_float(values: npt.NDArray[Any]) -> npt.NDArray[np.float64] | None:
    """``values`` as floats (missing -> NaN) if they are all numbers or bools, else None."""
    kind = values.dtype.kind
    if kind in "biuf":
        return values.astype(np.float64)
    if kind != "O" or infer_dtype(values, skipna=True) not in _NUMERIC_INFERRED:
        return None
    try:
        # "mixed-integer" also covers ints mixed with strings, which do not convert.
        return np.asarray(pd.to_numeric(values), dtype=np.float64)
    except (ValueError, TypeError):
        return None


def _check_missing(missing: npt.NDArray[np.bool_], subject: _Subject) -> None:
    count = int(missing.sum())
    if count:
        verb = "is" if count == 1 else "are"
        noun = subject.noun if count != 1 else subject.noun.removesuffix("s")
        raise subject.error(f"{count} {noun} {verb} missing or not finite")


def _non_numbers(values: npt.NDArray[Any]) -> list[object]:
    """The distinct values that are not real numbers (only called on invalid output)."""
    distinct = _distinct(values)
    found = [v for v in distinct if isinstance(v, (str, bytes)) or not isinstance(v, Real)]
    return found or distinct


def _quote(values: Iterable[object], limit: int = _SHOWN) -> str:
    """``'a', 'b', 3 and 4 more``: distinct values, in order of first appearance."""
    distinct = _distinct(values)
    shown = ", ".join(repr(_plain(v)) for v in distinct[:limit])
    more = len(distinct) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def _distinct(values: Iterable[object]) -> list[object]:
    """Distinct non-missing values in order of first appearance (hash-based, vectorized)."""
    array = values if isinstance(values, np.ndarray) else np.asarray(list(values), dtype=object)
    series = pd.Series(array.ravel(), dtype=object).dropna()
    try:
        return list(pd.unique(series))
    except TypeError:  # unhashable values
        return list(series)


def _plain(value: object) -> object:
    """numpy scalars as Python ones, so that reprs read ``0.5``, not ``np.float64(0.5)``."""
    return value.item() if isinstance(value, np.generic) else value
