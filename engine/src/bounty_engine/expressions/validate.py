"""Schema checks: which column a name means, and which comparisons make sense for its kind."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Sequence

from bounty_engine.expressions.canonical import nfkc, quote, render_value
from bounty_engine.expressions.nodes import Column, Operand, Scalar, Value
from bounty_engine.expressions.syntax import Source
from bounty_engine.schema import Feature, FeatureKind, FeatureSchema

_ORDERING = frozenset({"<", "<=", ">", ">="})


class SchemaValidator:
    """Resolves a rule's column names and checks its comparisons against the schema."""

    def __init__(self, schema: FeatureSchema, source: Source, quoted: dict[int, str]) -> None:
        self._features = {f.name: f for f in schema.features}
        self._source = source
        self._quoted = quoted
        self._category_sets: dict[str, frozenset[str]] = {}
        self.used: set[str] = set()
        """Names of the columns resolved so far."""

    def column(self, node: ast.Name) -> Column:
        """The schema column a name refers to."""
        start = self._source.start(node)
        quoted = self._quoted.get(start) if start is not None else None
        if quoted is not None:
            feature = self._features.get(quoted)
            if feature is None:
                raise self._source.error(_unknown_column(quoted, self._features), node)
        else:
            feature = self._plain_column(node, start)
        self.used.add(feature.name)
        return Column(feature.name, feature.kind)

    def _plain_column(self, node: ast.Name, start: int | None) -> Feature:
        end = self._source.end(node)
        text = self._source.text
        spelled = text[start:end] if start is not None and end is not None else node.id
        if node.id.startswith("__"):
            raise self._source.error("names starting with '__' are not allowed", node)
        if node.id.startswith("_"):
            raise self._source.error(
                f"names starting with '_' must be quoted with backticks: `{spelled}`", node
            )
        feature = self._features.get(spelled)
        if feature is not None:
            return feature
        # Python NFKC-normalizes identifiers: fall back to comparing normalized names.
        matches = [f for name, f in self._features.items() if nfkc(name) == node.id]
        if len(matches) > 1:
            names = ", ".join(repr(f.name) for f in matches)
            raise self._source.error(
                f"ambiguous column name; quote one of {names} with backticks", node
            )
        if not matches:
            raise self._source.error(_unknown_column(spelled, self._features), node)
        return matches[0]

    def example(self, column: Column) -> str:
        """A valid condition on ``column``, for error messages."""
        if column.kind is FeatureKind.CATEGORICAL:
            categories = self._features[column.name].categories or ["..."]
            return f"{column.render()} == {quote(categories[0])}"
        return f"{column.render()} > 0"

    def check_pair(
        self, left: Operand, op: str, right: Operand, left_node: ast.AST, right_node: ast.AST
    ) -> None:
        """Whether ``left op right`` is meaningful for the schema."""
        if isinstance(left, Column) and isinstance(right, Column):
            if left.kind is not right.kind:
                raise self._source.error(
                    f"cannot compare {left.kind.value} column {left.name!r} with "
                    f"{right.kind.value} column {right.name!r}",
                    left_node,
                )
            if left.kind is FeatureKind.CATEGORICAL and op in _ORDERING:
                raise self._source.error(_ordering_message(op, left.name), left_node)
        elif isinstance(left, Column) and isinstance(right, Value):
            self.check_value(left, op, right.value, right_node, left_node)
        elif isinstance(left, Value) and isinstance(right, Column):
            self.check_value(right, op, left.value, left_node, right_node)
        else:
            raise self._source.error(
                "this compares two constants; one side must be a column", left_node
            )

    def check_value(
        self, column: Column, op: str, value: Scalar, value_node: ast.AST, column_node: ast.AST
    ) -> None:
        """Whether a column can be compared with a constant."""
        if column.kind is FeatureKind.NUMERIC:
            if isinstance(value, str):
                raise self._source.error(
                    f"column {column.name!r} is numeric; compare it with a number, not a string",
                    value_node,
                )
            return
        if op in _ORDERING:
            raise self._source.error(_ordering_message(op, column.name), column_node)
        if not isinstance(value, str):
            raise self._source.error(
                f"column {column.name!r} is categorical; compare it with one of its categories "
                f"(a string), not {render_value(value)}",
                value_node,
            )
        categories = self._categories(column.name)
        if categories is not None and value not in categories:
            hint = _hint(value, sorted(categories), "its categories are", quote)
            raise self._source.error(
                f"{quote(value)} is not a category of column {column.name!r}{hint}", value_node
            )

    def _categories(self, name: str) -> frozenset[str] | None:
        categories = self._features[name].categories
        if categories is None:
            return None
        if name not in self._category_sets:
            self._category_sets[name] = frozenset(categories)
        return self._category_sets[name]


def _ordering_message(op: str, name: str) -> str:
    return f"'{op}' cannot be used on categorical column {name!r}; use ==, !=, in or not in"


def _unknown_column(name: str, features: dict[str, Feature]) -> str:
    return f"unknown column {name!r}{_hint(name, list(features), 'the columns are', repr)}"


def _hint(word: str, options: Sequence[str], listing: str, show: Callable[[str], str]) -> str:
    """Suggest the options close to ``word``; failing that, list a few options."""
    close = difflib.get_close_matches(word, options, n=3, cutoff=0.6)
    if close:
        quoted = [repr(c) for c in close]
        listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
        return f"; did you mean {listed}?"
    if len(options) <= 10:
        return f"; {listing} " + ", ".join(show(o) for o in options)
    return ""
