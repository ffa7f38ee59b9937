"""Evaluation of a rule on data: operands resolved to column views built once per evaluation."""

from __future__ import annotations

from typing import Any

import pandas as pd

from bounty_engine.errors import DataError, ExpressionError
from bounty_engine.expressions.column_views import CategoricalColumn, NumericColumn
from bounty_engine.expressions.nodes import BoolArray, Column, Operand, Scalar, Value
from bounty_engine.schema import FeatureKind

_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class Frame:
    """The data a rule is evaluated on, with per-column views built once per evaluation."""

    def __init__(self, data: pd.DataFrame) -> None:
        self._data = data
        self.n = len(data)
        self._numeric: dict[str, NumericColumn] = {}
        self._categorical: dict[str, CategoricalColumn] = {}

    def _series(self, name: str) -> pd.Series[Any]:
        column = self._data[name]
        if isinstance(column, pd.DataFrame):
            raise DataError(f"the data has several columns named {name!r}")
        return column

    def numeric(self, name: str) -> NumericColumn:
        if name not in self._numeric:
            self._numeric[name] = NumericColumn.of(self._series(name), name)
        return self._numeric[name]

    def categorical(self, name: str) -> CategoricalColumn:
        if name not in self._categorical:
            self._categorical[name] = CategoricalColumn(self._series(name))
        return self._categorical[name]

    def compare(self, left: Operand, op: str, right: Operand) -> BoolArray:
        if isinstance(left, Value):
            if isinstance(right, Value):
                raise ExpressionError("cannot compare two constants")
            left, op, right = right, _FLIPPED[op], left
        if left.kind is FeatureKind.NUMERIC:
            numbers = self.numeric(left.name)
            if isinstance(right, Column):
                return numbers.compare(op, self.numeric(right.name))
            return numbers.compare(op, right.value)
        labels = self.categorical(left.name)
        if isinstance(right, Column):
            same = labels.equals_column(self.categorical(right.name))
        else:
            same = labels.equals(right.value)
        return same if op == "==" else ~same

    def isin(self, column: Column, values: tuple[Scalar, ...]) -> BoolArray:
        if column.kind is FeatureKind.NUMERIC:
            return self.numeric(column.name).isin(values)
        return self.categorical(column.name).isin(values)
