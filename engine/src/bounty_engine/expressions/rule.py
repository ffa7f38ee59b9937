"""A validated group rule, and parsing one: scan, parse, convert, canonicalize."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from bounty_engine.errors import ExpressionError
from bounty_engine.expressions.evaluate import Frame
from bounty_engine.expressions.grammar import Converter
from bounty_engine.expressions.limits import MAX_EXPRESSION_LENGTH
from bounty_engine.expressions.nodes import BoolArray, Condition
from bounty_engine.expressions.scan import scan
from bounty_engine.expressions.syntax import parse_python
from bounty_engine.expressions.validate import SchemaValidator
from bounty_engine.schema import FeatureSchema


def parse_rule(text: str, schema: FeatureSchema) -> Rule:
    """Parse and validate a group rule against ``schema``.

    Raises :class:`ExpressionError`, with the position of the problem when there is one, for
    anything malformed, hostile, too large, or inconsistent with the schema.
    """
    if not isinstance(text, str):
        raise ExpressionError("the rule must be a string")
    scanned = scan(text)
    tree, source = parse_python(text, scanned.source)
    validator = SchemaValidator(schema, source, scanned.quoted)
    condition = Converter(source, validator).condition(tree)
    canonical = condition.render()
    if len(canonical) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"the rule is too long once normalized ({len(canonical)} characters; "
            f"the limit is {MAX_EXPRESSION_LENGTH})"
        )
    return Rule(text, canonical, tuple(sorted(validator.used)), condition)


@dataclass(frozen=True, eq=False)
class Rule:
    """A validated group rule. Build it with :func:`parse_rule`; equal when canonically equal."""

    text: str
    """The text the rule was parsed from."""
    canonical: str
    """Normalized text; parsing it gives an equal rule."""
    columns: tuple[str, ...]
    """Feature columns the rule uses, sorted, without duplicates."""
    _condition: Condition = field(repr=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rule) and other.canonical == self.canonical

    def __hash__(self) -> int:
        return hash(self.canonical)

    def evaluate(self, X: pd.DataFrame) -> BoolArray:  # noqa: N803
        """The group's membership mask over the rows of ``X``: a bool array of ``len(X)``."""
        absent = [name for name in self.columns if name not in X.columns]
        if absent:
            listed = ", ".join(repr(name) for name in absent)
            raise ExpressionError(f"the data has no column {listed} used by the rule")
        return self._condition.mask(Frame(X))
