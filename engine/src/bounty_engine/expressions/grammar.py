"""The rule grammar: builds a rule's condition tree from Python's syntax tree, refusing the rest."""

from __future__ import annotations

import ast
import math

from bounty_engine.expressions.canonical import normalized_list
from bounty_engine.expressions.limits import MAX_LIST_LENGTH
from bounty_engine.expressions.nodes import (
    And,
    Column,
    Compare,
    Condition,
    Literal,
    Member,
    Not,
    Operand,
    Or,
    Scalar,
    Value,
)
from bounty_engine.expressions.refusals import refusal
from bounty_engine.expressions.syntax import Source
from bounty_engine.expressions.validate import SchemaValidator

_COMPARE_OPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}


class Converter:
    """Turns allowed Python syntax into conditions, validated against the schema as it goes."""

    def __init__(self, source: Source, schema: SchemaValidator) -> None:
        self._source = source
        self._schema = schema

    def condition(self, node: ast.expr) -> Condition:
        """A node used as a condition: and/or/not, a comparison, or True/False."""
        if isinstance(node, ast.BoolOp):
            items = [self.condition(value) for value in node.values]
            return And.of(items) if isinstance(node.op, ast.And) else Or.of(items)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return Not(self.condition(node.operand))
        if isinstance(node, ast.Compare):
            return self.comparison(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return Literal(node.value)
        operand = self.operand(node)
        if isinstance(operand, Value):
            raise self._source.error(f"the constant {operand.render()} is not a condition", node)
        raise self._source.error(
            f"column {operand.name!r} is not a condition by itself; compare it with a value, "
            f"e.g. {self._schema.example(operand)}",
            node,
        )

    def comparison(self, node: ast.Compare) -> Condition:
        """A (possibly chained) comparison, or a membership test."""
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.Is | ast.IsNot):
                raise self._source.error(
                    "identity tests ('is', 'is not') are not allowed; use == or !=", right
                )
        if any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            if len(node.ops) > 1:
                raise self._source.error(
                    "'in' and 'not in' cannot be chained with other comparisons", node
                )
            return self.membership(node.left, node.ops[0], node.comparators[0])
        nodes = [node.left, *node.comparators]
        operands = [self.operand(n) for n in nodes]
        ops = [_COMPARE_OPS[type(op)] for op in node.ops]
        for i, symbol in enumerate(ops):
            self._schema.check_pair(operands[i], symbol, operands[i + 1], nodes[i], nodes[i + 1])
        return Compare(tuple(operands), tuple(ops))

    def membership(self, left: ast.expr, op: ast.cmpop, right: ast.expr) -> Condition:
        """``column in (constants...)`` or ``column not in (...)``."""
        word = "not in" if isinstance(op, ast.NotIn) else "in"
        subject = self.operand(left)
        if not isinstance(subject, Column):
            raise self._source.error(f"the left side of '{word}' must be a column", left)
        if not isinstance(right, ast.Tuple | ast.List):
            raise self._source.error(
                f"'{word}' needs a tuple or list of constants on its right, "
                f'e.g. x {word} ("a", "b")',
                right,
            )
        if not right.elts:
            raise self._source.error(f"the list after '{word}' is empty", right)
        if len(right.elts) > MAX_LIST_LENGTH:
            raise self._source.error(
                f"too many values after '{word}' (the limit is {MAX_LIST_LENGTH})",
                right.elts[MAX_LIST_LENGTH],
            )
        values = []
        for item in right.elts:
            value = self.constant(item)
            self._schema.check_value(subject, "==", value, item, left)
            values.append(value)
        return Member(subject, normalized_list(values), negated=word == "not in")

    def operand(self, node: ast.expr) -> Operand:
        """A column or a constant, as one side of a comparison."""
        if isinstance(node, ast.Name):
            return self._schema.column(node)
        return Value(self.constant(node))

    def constant(self, node: ast.expr) -> Scalar:
        """A str, bool or finite number constant, possibly signed."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = self.constant(node.operand)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self._source.error("a sign (+ or -) can only precede a number", node)
            return -value if isinstance(node.op, ast.USub) else value
        if not isinstance(node, ast.Constant):
            raise refusal(node, self._source)
        raw = node.value
        if isinstance(raw, str | bool):
            return raw
        if isinstance(raw, int | float):
            if not _is_finite(raw):
                raise self._source.error("this number is out of range", node)
            return raw
        raise refusal(node, self._source)


def _is_finite(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False
