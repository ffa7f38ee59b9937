"""A data column seen as numbers or as strings, with the rule language's missing-value semantics."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from bounty_engine.errors import DataError
from bounty_engine.expressions.nodes import BoolArray, Scalar

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class NumericColumn:
    values: npt.NDArray[Any]
    """Integer or float values; NaN (for floats) already behaves as a missing value should."""
    missing: BoolArray | None
    """Missing rows not already NaN (masked extension arrays), if any."""

    @classmethod
    def of(cls, series: pd.Series[Any], name: str) -> NumericColumn:
        dtype = series.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
            return cls(series.to_numpy(), None)
        if isinstance(dtype, np.dtype) and dtype.kind == "b":
            return cls(series.to_numpy().astype(np.int8), None)
        numpy_dtype = getattr(dtype, "numpy_dtype", None)
        if isinstance(numpy_dtype, np.dtype) and numpy_dtype.kind in "biuf":
            missing = series.isna().to_numpy(dtype=np.bool_)
            fill: float = np.nan if numpy_dtype.kind == "f" else 0
            values = series.to_numpy(dtype=numpy_dtype, na_value=fill)
            if numpy_dtype.kind == "b":
                values = values.astype(np.int8)
            return cls(values, missing if missing.any() else None)
        if isinstance(dtype, np.dtype) and dtype.kind in "mMc":
            raise DataError(f"column {name!r} should hold numbers, not {dtype}")
        try:
            converted = pd.to_numeric(series.astype(object), errors="raise")
        except (ValueError, TypeError):
            raise DataError(f"column {name!r} should hold numbers but holds other values") from None
        if converted.dtype == object or not pd.api.types.is_numeric_dtype(converted.dtype):
            raise DataError(f"column {name!r} should hold numbers but holds other values")
        return cls.of(converted, name)

    def compare(self, op: str, other: Scalar | NumericColumn) -> BoolArray:
        """Rows where ``self op other`` holds (``!=`` also holds where a side is missing)."""
        right: Any = int(other) if isinstance(other, bool) else other
        missing = None
        if isinstance(other, NumericColumn):
            right, missing = other.values, other.missing
        hit = np.asarray(_OPERATORS[op](self.values, right), dtype=np.bool_)
        return _with_missing(hit, op, self.missing, missing)

    def isin(self, values: tuple[Scalar, ...]) -> BoolArray:
        numbers = [v for v in values if not isinstance(v, str)]
        if self.values.dtype.kind in "iu":
            # Exact integer matching: a float list would lose precision above 2**53.
            info = np.iinfo(self.values.dtype)
            whole = {int(v) for v in numbers if float(v).is_integer()}
            test = np.array(sorted(v for v in whole if info.min <= v <= info.max), dtype=info.dtype)
        else:
            test = np.array([float(v) for v in numbers], dtype=np.float64)
        hit = np.isin(self.values, test)
        return _with_missing(hit, "in", self.missing)


def _with_missing(hit: BoolArray, op: str, *missing: BoolArray | None) -> BoolArray:
    """Force rows with a missing operand to False (True for ``!=``)."""
    masks = [m for m in missing if m is not None]
    if not masks:
        return hit
    absent = masks[0] if len(masks) == 1 else np.logical_or.reduce(masks)
    return np.where(absent, op == "!=", hit)


class CategoricalColumn:
    """A categorical column compared as strings (``category`` columns through their codes)."""

    def __init__(self, series: pd.Series[Any]) -> None:
        dtype = series.dtype
        self._labels: list[str] | None = None
        # Rows missing before a conversion to str (which may turn NaN into "nan").
        self._converted_missing: BoolArray | None = None
        if isinstance(dtype, pd.CategoricalDtype):
            self._labels = [str(c) for c in dtype.categories]
        elif not pd.api.types.is_string_dtype(dtype):
            self._converted_missing = series.isna().to_numpy(dtype=np.bool_)
            series = series.astype(str)
        self._series = series

    @cached_property
    def missing(self) -> BoolArray:
        """Rows with a missing value."""
        if self._converted_missing is not None:
            return self._converted_missing
        return self._series.isna().to_numpy(dtype=np.bool_)

    def equals(self, value: Scalar) -> BoolArray:
        """Rows equal to ``value`` (never the missing ones)."""
        if self._labels is not None:
            return self._with_codes({value})
        return self._present(self._series.eq(value).to_numpy(dtype=bool, na_value=False))

    def equals_column(self, other: CategoricalColumn) -> BoolArray:
        """Rows where both columns hold the same value (never the missing ones)."""
        same = np.asarray(self._objects() == other._objects(), dtype=np.bool_)
        return same & ~self.missing & ~other.missing

    def isin(self, values: tuple[Scalar, ...]) -> BoolArray:
        """Rows whose value is one of ``values`` (never the missing ones)."""
        if self._labels is not None:
            return self._with_codes(set(values))
        return self._present(self._series.isin(list(values)).to_numpy(dtype=bool, na_value=False))

    def _objects(self) -> npt.NDArray[np.object_]:
        """Values as Python objects, None where missing."""
        if self._labels is not None:
            lookup = np.array([*self._labels, None], dtype=object)
            return lookup[self._series.cat.codes.to_numpy()]  # code -1 (missing) -> None
        labels = self._series.to_numpy(dtype=object, copy=True)
        labels[self.missing] = None
        return labels

    def _with_codes(self, wanted: set[Scalar]) -> BoolArray:
        labels = self._labels or []
        codes = np.array([i for i, c in enumerate(labels) if c in wanted], dtype=np.int64)
        return np.isin(self._series.cat.codes.to_numpy(), codes)  # missing rows have code -1

    def _present(self, hit: BoolArray) -> BoolArray:
        # Missing values of string columns never equal a string; converted ones might ("nan").
        if self._converted_missing is None:
            return hit
        return hit & ~self._converted_missing
