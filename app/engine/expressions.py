"""Group rules: a small, safe boolean language over a round's feature columns.

A rule names a group of people, for example::

    sex == "Female" and age >= 50
    18 <= age < 30 or occupation in ("Sales", "Tech-support")
    not (race == "White")
    `capital-gain` > 0

Grammar (a strict subset of Python expressions, parsed with :mod:`ast`, never executed):

- ``and``, ``or``, ``not`` and parentheses; ``True`` / ``False`` (everyone / no one);
- comparisons ``== != < <= > >=``, possibly chained (``18 <= age < 30``), and ``in`` /
  ``not in`` with a non-empty tuple or list of constants on the right;
- column names: plain identifiers, or any name quoted with backticks (required for names that are
  not identifiers, are keywords, or start with ``_``);
- constants: strings, numbers (with an optional sign) and booleans.

Rules are checked against the round's :class:`FeatureSchema`: numeric columns compare with numbers
(booleans count as 0/1), categorical columns with their categories and only with ``==``, ``!=``,
``in`` and ``not in``; two columns may be compared if both are numeric, or both categorical with
``==`` / ``!=``. Every error is an :class:`ExpressionError` carrying the position of the problem.

Missing values (NaN, None, ``pd.NA``) are never equal to anything (another missing value included),
never in any list, and every ordering comparison with them is False. Hence ``!=`` and ``not in``
are True for them and ``not (x == a)`` always equals ``x != a``.

Evaluation is vectorized numpy/pandas code over whole columns. Categorical columns are compared as
strings: ``category`` columns through their codes, string/object columns directly, other dtypes
after ``astype(str)``. Numeric columns must hold numbers (or text that parses as numbers), else
:class:`DataError`.

Two rules are equal when their canonical forms are equal. The canonical form re-renders the rule
with uniform spacing and quoting, flattened ``and``/``or``, and ``in`` lists deduplicated and
sorted; a rule is only accepted if its canonical form also fits :data:`MAX_EXPRESSION_LENGTH`, so
``parse_rule(rule.canonical, schema) == rule`` always holds.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import math
import operator
import re
import unicodedata
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from app.engine.errors import DataError, ExpressionError
from app.engine.schema import Feature, FeatureKind, FeatureSchema

__all__ = [
    "MAX_AST_DEPTH",
    "MAX_AST_NODES",
    "MAX_EXPRESSION_LENGTH",
    "MAX_LIST_LENGTH",
    "MAX_NESTING_DEPTH",
    "Rule",
    "parse_rule",
]

MAX_EXPRESSION_LENGTH = 4000
"""Longest accepted rule text, in characters (also applies to its canonical form)."""
MAX_NESTING_DEPTH = 32
"""Deepest bracket nesting, and longest run of prefix operators (``not``, signs)."""
MAX_LIST_LENGTH = 1000
"""Most constants in the list of an ``in`` / ``not in``."""
MAX_AST_NODES = 2000
"""Most nodes in the parsed syntax tree."""
MAX_AST_DEPTH = 100
"""Deepest parsed syntax tree (bounds the recursion of everything after parsing)."""

Scalar = str | bool | int | float
BoolArray = npt.NDArray[np.bool_]

_COMPARE_OPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
_ORDERING = frozenset({"<", "<=", ">", ">="})
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_BINARY_SYMBOLS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.MatMult: "@",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
}
_REFUSED: dict[type[ast.AST], str] = {
    ast.Call: "function calls are not allowed",
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "subscripts are not allowed",
    ast.Slice: "slices are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.NamedExpr: "walrus/assignment (:=) is not allowed",
    ast.IfExp: "conditional expressions (a if c else b) are not allowed",
    ast.Starred: "starred expressions (*x) are not allowed",
    ast.Dict: "dict literals are not allowed",
    ast.Set: "set literals are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Tuple: "tuples and lists are only allowed after 'in' or 'not in'",
    ast.List: "tuples and lists are only allowed after 'in' or 'not in'",
}
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
_PREFIX_SIGNS = "-+~"
_SKIPPED = " \t\f\r\n)"


def parse_rule(text: str, schema: FeatureSchema) -> Rule:
    """Parse and validate a group rule against ``schema``.

    Raises :class:`ExpressionError`, with the position of the problem when there is one, for
    anything malformed, hostile, too large, or inconsistent with the schema.
    """
    if not isinstance(text, str):
        raise ExpressionError("the rule must be a string")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"the rule is too long ({len(text)} characters; the limit is {MAX_EXPRESSION_LENGTH})",
            offset=MAX_EXPRESSION_LENGTH,
            text=text,
        )
    scanned = _scan(text)
    tree, source = _parse(text, scanned.source)
    _check_tree_size(tree, source, text)
    converter = _Converter(text, schema, source, scanned.quoted)
    condition = converter.condition(tree.body)
    canonical = condition.render()
    if len(canonical) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"the rule is too long once normalized ({len(canonical)} characters; "
            f"the limit is {MAX_EXPRESSION_LENGTH})"
        )
    return Rule(text, canonical, tuple(sorted(converter.used)), condition)


@dataclass(frozen=True, eq=False)
class Rule:
    """A validated group rule. Build it with :func:`parse_rule`; equal when canonically equal."""

    text: str
    """The text the rule was parsed from."""
    canonical: str
    """Normalized text; parsing it gives an equal rule."""
    columns: tuple[str, ...]
    """Feature columns the rule uses, sorted, without duplicates."""
    _condition: _Condition = field(repr=False)

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
        return self._condition.mask(_Frame(X))


# --- Scanning: caps and backticks, before the Python parser sees anything ----------------------


@dataclass(frozen=True)
class _Scanned:
    source: str
    """The text with each backtick-quoted name replaced by underscores of the same length, and
    comments and line breaks (outside strings) by spaces: one line, same offsets as the text."""
    quoted: dict[int, str]
    """Offset of each backtick-quoted name -> the name."""


def _scan(text: str) -> _Scanned:
    """One linear pass: bad characters, nesting caps, string and backtick boundaries."""
    bad = _BAD_CHARACTER.search(text)
    if bad:
        raise ExpressionError("invalid character in the rule", offset=bad.start(), text=text)
    out = list(text)
    quoted: dict[int, str] = {}
    depth = 0
    run = 0  # consecutive prefix operators (`not`, signs); bounded so the parser cannot overflow
    i = 0
    while i < len(text):
        ch = text[i]
        start = i
        i += 1
        prefix = False
        if ch in "'\"":
            i = _string_end(text, start)
        elif ch == "`":
            i = _backtick_end(text, start)
            quoted[start] = text[start + 1 : i - 1]
            out[start:i] = "_" * (i - start)
        elif ch == "#":
            i = _line_end(text, start)
            out[start:i] = " " * (i - start)
            continue
        elif ch in "\r\n":
            out[start] = " "
            continue
        elif _is_word_char(ch):
            while i < len(text) and _is_word_char(text[i]):
                i += 1
            prefix = text[start:i] == "not"
        elif ch in "([{":
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                raise ExpressionError(
                    f"brackets are nested too deeply (the limit is {MAX_NESTING_DEPTH})",
                    offset=start,
                    text=text,
                )
            continue
        elif ch in ")]}":
            depth = max(depth - 1, 0)  # unbalanced brackets are left to the parser to report
        elif ch.isspace():
            continue
        else:
            prefix = ch in _PREFIX_SIGNS
        run = run + 1 if prefix else 0
        if run > MAX_NESTING_DEPTH:
            raise ExpressionError(
                f"too many consecutive 'not' or sign operators (the limit is {MAX_NESTING_DEPTH})",
                offset=start,
                text=text,
            )
    return _Scanned("".join(out), quoted)


def _is_word_char(ch: str) -> bool:
    return ("a" + ch).isidentifier()


def _line_end(text: str, start: int) -> int:
    ends = [p for p in (text.find("\n", start), text.find("\r", start)) if p >= 0]
    return min(ends, default=len(text))


def _string_end(text: str, start: int) -> int:
    """Offset just past the string literal whose opening quote is at ``start``."""
    quote = text[start]
    closing = quote * 3 if text.startswith(quote * 3, start) else quote
    i = start + len(closing)
    while i < len(text):
        if text[i] == "\\":
            i += 1  # the escaped character cannot close the string
        elif text.startswith(closing, i):
            return i + len(closing)
        if i < len(text) and text[i] in "\r\n":
            raise ExpressionError("a string cannot span several lines", offset=i, text=text)
        i += 1
    raise ExpressionError("unterminated string", offset=start, text=text)


def _backtick_end(text: str, start: int) -> int:
    """Offset just past the backtick-quoted name that opens at ``start``."""
    end = text.find("`", start + 1)
    if end < 0 or end > _line_end(text, start):
        raise ExpressionError("unterminated backtick-quoted name", offset=start, text=text)
    if end == start + 1:
        raise ExpressionError("empty backtick-quoted name", offset=start, text=text)
    before = text[start - 1] if start else " "
    after = text[end + 1] if end + 1 < len(text) else " "
    if _is_word_char(before) or _is_word_char(after) or after == "`":
        raise ExpressionError(
            "separate a backtick-quoted name from its neighbours with a space or an operator",
            offset=start,
            text=text,
        )
    return end + 1


# --- Parsing ---------------------------------------------------------------------------------


class _Source:
    """Maps positions in the parsed source (UTF-8 byte columns, one line) to text offsets."""

    def __init__(self, parsed: str, shift: int):
        self._shift = shift
        self._encoded = None if parsed.isascii() else parsed.encode()

    def offset(self, column: int) -> int:
        if self._encoded is not None:
            column = len(self._encoded[:column].decode("utf-8", "ignore"))
        return self._shift + column

    def start(self, node: ast.AST) -> int | None:
        column = getattr(node, "col_offset", None)
        return None if column is None else self.offset(column)

    def end(self, node: ast.AST) -> int | None:
        column = getattr(node, "end_col_offset", None)
        return None if column is None else self.offset(column)


def _parse(text: str, source: str) -> tuple[ast.Expression, _Source]:
    """Parse the scanned source, turning every parser failure into an ExpressionError."""
    stripped = source.lstrip(" \t\f")  # the parser refuses leading indentation
    shift = len(source) - len(stripped)
    if not stripped.strip():
        raise ExpressionError("the rule is empty", offset=0, text=text)
    try:
        with warnings.catch_warnings():
            # e.g. "invalid escape sequence": harmless here, and not for our logs.
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        offset = None
        if exc.offset is not None:
            offset = len(text) if (exc.lineno or 1) > 1 else shift + max(exc.offset - 1, 0)
            offset = min(offset, len(text))
        message = exc.msg if exc.msg.startswith("invalid syntax") else f"syntax error: {exc.msg}"
        raise ExpressionError(message, offset=offset, text=text) from None
    except (RecursionError, MemoryError, ValueError, OverflowError):
        raise ExpressionError("the rule is too complex to parse") from None
    return tree, _Source(stripped, shift)


def _check_tree_size(tree: ast.Expression, source: _Source, text: str) -> None:
    """Cap node count and depth without recursion, so later recursive passes are safe."""
    count = 0
    stack: list[tuple[ast.AST, int, int | None]] = [(tree.body, 1, None)]
    while stack:
        node, depth, parent_offset = stack.pop()
        offset = source.start(node)
        offset = parent_offset if offset is None else offset
        count += 1
        if count > MAX_AST_NODES:
            raise ExpressionError(
                f"the rule is too large (more than {MAX_AST_NODES} syntax nodes)",
                offset=offset,
                text=text,
            )
        if depth > MAX_AST_DEPTH:
            raise ExpressionError(
                f"the rule is nested too deeply (the limit is {MAX_AST_DEPTH} levels)",
                offset=offset,
                text=text,
            )
        stack.extend((child, depth + 1, offset) for child in ast.iter_child_nodes(node))


# --- Validation: from Python's AST to the rule's own tree ---------------------------------------


class _Converter:
    """Validates a parsed rule against the schema and builds its condition tree."""

    def __init__(
        self, text: str, schema: FeatureSchema, source: _Source, quoted: dict[int, str]
    ) -> None:
        self._text = text
        self._features = {f.name: f for f in schema.features}
        self._source = source
        self._quoted = quoted
        self._category_sets: dict[str, frozenset[str]] = {}
        self.used: set[str] = set()

    def error(
        self, message: str, node: ast.AST | None = None, offset: int | None = None
    ) -> ExpressionError:
        """An error at ``node`` (or at ``offset``)."""
        if offset is None and node is not None:
            offset = self._source.start(node)
        return ExpressionError(message, offset=offset, text=self._text)

    def condition(self, node: ast.expr) -> _Condition:
        """A node used as a condition: and/or/not, a comparison, or True/False."""
        if isinstance(node, ast.BoolOp):
            items = [self.condition(value) for value in node.values]
            return _And.of(items) if isinstance(node.op, ast.And) else _Or.of(items)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return _Not(self.condition(node.operand))
        if isinstance(node, ast.Compare):
            return self.comparison(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return _Literal(node.value)
        operand = self.operand(node)
        if isinstance(operand, _Value):
            raise self.error(f"the constant {operand.render()} is not a condition", node)
        example = f"{operand.render()} > 0"
        if operand.kind is FeatureKind.CATEGORICAL:
            categories = self._features[operand.name].categories or ["..."]
            example = f"{operand.render()} == {_quote(categories[0])}"
        raise self.error(
            f"column {operand.name!r} is not a condition by itself; compare it with a value, "
            f"e.g. {example}",
            node,
        )

    def comparison(self, node: ast.Compare) -> _Condition:
        """A (possibly chained) comparison, or a membership test."""
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.Is | ast.IsNot):
                raise self.error(
                    "identity tests ('is', 'is not') are not allowed; use == or !=", right
                )
        if any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            if len(node.ops) > 1:
                raise self.error("'in' and 'not in' cannot be chained with other comparisons", node)
            return self.membership(node.left, node.ops[0], node.comparators[0])
        nodes = [node.left, *node.comparators]
        operands = [self.operand(n) for n in nodes]
        ops = [_COMPARE_OPS[type(op)] for op in node.ops]
        for i, symbol in enumerate(ops):
            self.check_pair(operands[i], symbol, operands[i + 1], nodes[i], nodes[i + 1])
        return _Compare(tuple(operands), tuple(ops))

    def membership(self, left: ast.expr, op: ast.cmpop, right: ast.expr) -> _Condition:
        """``column in (constants...)`` or ``column not in (...)``."""
        word = "not in" if isinstance(op, ast.NotIn) else "in"
        subject = self.operand(left)
        if not isinstance(subject, _Column):
            raise self.error(f"the left side of '{word}' must be a column", left)
        if not isinstance(right, ast.Tuple | ast.List):
            raise self.error(
                f"'{word}' needs a tuple or list of constants on its right, "
                f'e.g. x {word} ("a", "b")',
                right,
            )
        if not right.elts:
            raise self.error(f"the list after '{word}' is empty", right)
        if len(right.elts) > MAX_LIST_LENGTH:
            raise self.error(
                f"too many values after '{word}' (the limit is {MAX_LIST_LENGTH})",
                right.elts[MAX_LIST_LENGTH],
            )
        values = []
        for item in right.elts:
            value = self.constant(item)
            self.check_value(subject, "==", value, item, left)
            values.append(value)
        return _Member(subject, _normalized_list(values), negated=word == "not in")

    def check_pair(
        self, left: _Operand, op: str, right: _Operand, left_node: ast.AST, right_node: ast.AST
    ) -> None:
        """Whether ``left op right`` is meaningful for the schema."""
        if isinstance(left, _Column) and isinstance(right, _Column):
            if left.kind is not right.kind:
                raise self.error(
                    f"cannot compare {left.kind.value} column {left.name!r} with "
                    f"{right.kind.value} column {right.name!r}",
                    left_node,
                )
            if left.kind is FeatureKind.CATEGORICAL and op in _ORDERING:
                raise self.error(_ordering_message(op, left.name), left_node)
        elif isinstance(left, _Column) and isinstance(right, _Value):
            self.check_value(left, op, right.value, right_node, left_node)
        elif isinstance(left, _Value) and isinstance(right, _Column):
            self.check_value(right, op, left.value, left_node, right_node)
        else:
            raise self.error("this compares two constants; one side must be a column", left_node)

    def check_value(
        self, column: _Column, op: str, value: Scalar, value_node: ast.AST, column_node: ast.AST
    ) -> None:
        """Whether a column can be compared with a constant."""
        if column.kind is FeatureKind.NUMERIC:
            if isinstance(value, str):
                raise self.error(
                    f"column {column.name!r} is numeric; compare it with a number, not a string",
                    value_node,
                )
            return
        if op in _ORDERING:
            raise self.error(_ordering_message(op, column.name), column_node)
        if not isinstance(value, str):
            raise self.error(
                f"column {column.name!r} is categorical; compare it with one of its categories "
                f"(a string), not {_render_value(value)}",
                value_node,
            )
        categories = self._categories(column.name)
        if categories is not None and value not in categories:
            hint = _suggestion(value, sorted(categories))
            if not hint and len(categories) <= 10:
                hint = "; its categories are " + ", ".join(_quote(c) for c in sorted(categories))
            raise self.error(
                f"{_quote(value)} is not a category of column {column.name!r}{hint}", value_node
            )

    def _categories(self, name: str) -> frozenset[str] | None:
        categories = self._features[name].categories
        if categories is None:
            return None
        if name not in self._category_sets:
            self._category_sets[name] = frozenset(categories)
        return self._category_sets[name]

    def operand(self, node: ast.expr) -> _Operand:
        """A column or a constant, as one side of a comparison."""
        if isinstance(node, ast.Name):
            return self.column(node)
        return _Value(self.constant(node))

    def constant(self, node: ast.expr) -> Scalar:
        """A str, bool or finite number constant, possibly signed."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = self.constant(node.operand)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.error("a sign (+ or -) can only precede a number", node)
            return -value if isinstance(node.op, ast.USub) else value
        if not isinstance(node, ast.Constant):
            raise self.refusal(node)
        raw = node.value
        if isinstance(raw, str | bool):
            return raw
        if isinstance(raw, int | float):
            if not _is_finite(raw):
                raise self.error("this number is out of range", node)
            return raw
        raise self.refusal(node)

    def column(self, node: ast.Name) -> _Column:
        """The schema column a name refers to."""
        start = self._source.start(node)
        quoted = self._quoted.get(start) if start is not None else None
        if quoted is not None:
            feature = self._features.get(quoted)
            if feature is None:
                raise self.error(_unknown_column(quoted, self._features), node)
        else:
            feature = self._plain_column(node, start)
        self.used.add(feature.name)
        return _Column(feature.name, feature.kind)

    def _plain_column(self, node: ast.Name, start: int | None) -> Feature:
        end = self._source.end(node)
        spelled = self._text[start:end] if start is not None and end is not None else node.id
        if node.id.startswith("__"):
            raise self.error("names starting with '__' are not allowed", node)
        if node.id.startswith("_"):
            raise self.error(
                f"names starting with '_' must be quoted with backticks: `{spelled}`", node
            )
        feature = self._features.get(spelled)
        if feature is not None:
            return feature
        # Python NFKC-normalizes identifiers: fall back to comparing normalized names.
        matches = [f for name, f in self._features.items() if _nfkc(name) == node.id]
        if len(matches) > 1:
            names = ", ".join(repr(f.name) for f in matches)
            raise self.error(f"ambiguous column name; quote one of {names} with backticks", node)
        if not matches:
            raise self.error(_unknown_column(spelled, self._features), node)
        return matches[0]

    def refusal(self, node: ast.AST) -> ExpressionError:
        """An error naming the construct ``node`` is."""
        if isinstance(node, ast.BinOp):
            symbol = _BINARY_SYMBOLS.get(type(node.op), "?")
            hint = " (use and, or, not)" if symbol in {"&", "|", "^"} else ""
            return self.error(
                f"operator '{symbol}' is not allowed{hint}", offset=self._after(node.left)
            )
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return self.error("'not' applies to conditions, not to values", node)
            return self.error("operator '~' is not allowed (use not)", node)
        if isinstance(node, ast.Attribute | ast.Subscript):
            return self.error(_REFUSED[type(node)], offset=self._after(node.value))
        if isinstance(node, ast.Constant):
            return self.error(_constant_message(node.value), node)
        if isinstance(node, ast.Name):
            return self.error("only constants are allowed here, not column names", node)
        message = _REFUSED.get(type(node), f"{type(node).__name__} expressions are not allowed")
        return self.error(message, node)

    def _after(self, node: ast.AST) -> int | None:
        """Offset of the first character after ``node`` that is not a space or ')'."""
        offset = self._source.end(node)
        if offset is None:
            return self._source.start(node)
        while offset < len(self._text) and self._text[offset] in _SKIPPED:
            offset += 1
        return offset


def _ordering_message(op: str, name: str) -> str:
    return f"'{op}' cannot be used on categorical column {name!r}; use ==, !=, in or not in"


def _constant_message(value: object) -> str:
    if value is None:
        return "None is not allowed"
    if value is Ellipsis:
        return "'...' is not allowed"
    if isinstance(value, bytes):
        return "bytes literals are not allowed"
    if isinstance(value, complex):
        return "complex numbers are not allowed"
    return f"constants of type {type(value).__name__} are not allowed"


def _unknown_column(name: str, features: dict[str, Feature]) -> str:
    hint = _suggestion(name, list(features))
    if not hint and len(features) <= 10:
        hint = "; the columns are " + ", ".join(repr(n) for n in features)
    return f"unknown column {name!r}{hint}"


def _suggestion(word: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, options, n=3, cutoff=0.6)
    if not close:
        return ""
    quoted = [repr(c) for c in close]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f"; did you mean {listed}?"


def _nfkc(name: str) -> str:
    return unicodedata.normalize("NFKC", name)


def _is_finite(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _normalized_list(values: Iterable[Scalar]) -> tuple[Scalar, ...]:
    """Deduplicated (first spelling kept; 1 == 1.0 == True) and sorted."""
    unique = list(dict.fromkeys(values))
    numbers = sorted((v for v in unique if not isinstance(v, str)), key=float)
    return (*numbers, *sorted(v for v in unique if isinstance(v, str)))


# --- Rendering ---------------------------------------------------------------------------------


def _render_name(name: str) -> str:
    plain = (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("_")
        and _nfkc(name) == name
    )
    return name if plain else f"`{name}`"


def _render_value(value: Scalar) -> str:
    if isinstance(value, str):
        return _quote(value)
    return repr(value)


def _quote(value: str) -> str:
    """A double-quoted Python string literal for ``value``."""
    parts = []
    for ch in value:
        if ch in '\\"':
            parts.append("\\" + ch)
        elif ch.isprintable():
            parts.append(ch)
        else:
            parts.append(repr(ch)[1:-1])
    return '"' + "".join(parts) + '"'


# --- The rule's tree: validated conditions that render and evaluate themselves ------------------


@dataclass(frozen=True)
class _Column:
    name: str
    kind: FeatureKind

    def render(self) -> str:
        return _render_name(self.name)


@dataclass(frozen=True)
class _Value:
    value: Scalar

    def render(self) -> str:
        return _render_value(self.value)


_Operand = _Column | _Value


class _Condition(ABC):
    """A node of a validated rule."""

    precedence: ClassVar[int] = 4  # or: 1, and: 2, not: 3, atoms: 4

    @abstractmethod
    def mask(self, frame: _Frame) -> BoolArray:
        """Rows of the frame satisfying the condition."""

    @abstractmethod
    def render(self) -> str:
        """Canonical text."""

    def render_within(self, precedence: int) -> str:
        text = self.render()
        return f"({text})" if self.precedence < precedence else text


@dataclass(frozen=True)
class _Literal(_Condition):
    value: bool

    def mask(self, frame: _Frame) -> BoolArray:
        return np.full(frame.n, self.value, dtype=np.bool_)

    def render(self) -> str:
        return repr(self.value)


@dataclass(frozen=True)
class _Not(_Condition):
    operand: _Condition
    precedence: ClassVar[int] = 3

    def mask(self, frame: _Frame) -> BoolArray:
        return ~self.operand.mask(frame)

    def render(self) -> str:
        # `not` binds more loosely than comparisons, so `not age > 3` needs no brackets; adding
        # them would let the canonical form nest deeper than the text it came from.
        return "not " + self.operand.render_within(self.precedence)


@dataclass(frozen=True)
class _BoolOp(_Condition):
    items: tuple[_Condition, ...]
    word: ClassVar[str]

    @classmethod
    def of(cls, items: Iterable[_Condition]) -> _BoolOp:
        """Flattened: ``a and (b and c)`` becomes ``a and b and c``."""
        flat: list[_Condition] = []
        for item in items:
            flat.extend(item.items if isinstance(item, cls) else [item])
        return cls(tuple(flat))

    def render(self) -> str:
        return f" {self.word} ".join(item.render_within(self.precedence) for item in self.items)


@dataclass(frozen=True)
class _And(_BoolOp):
    word: ClassVar[str] = "and"
    precedence: ClassVar[int] = 2

    def mask(self, frame: _Frame) -> BoolArray:
        result = self.items[0].mask(frame)
        for item in self.items[1:]:
            result = result & item.mask(frame)
        return result


@dataclass(frozen=True)
class _Or(_BoolOp):
    word: ClassVar[str] = "or"
    precedence: ClassVar[int] = 1

    def mask(self, frame: _Frame) -> BoolArray:
        result = self.items[0].mask(frame)
        for item in self.items[1:]:
            result = result | item.mask(frame)
        return result


@dataclass(frozen=True)
class _Compare(_Condition):
    operands: tuple[_Operand, ...]
    ops: tuple[str, ...]

    def mask(self, frame: _Frame) -> BoolArray:
        result: BoolArray | None = None
        for i, op in enumerate(self.ops):
            pair = frame.compare(self.operands[i], op, self.operands[i + 1])
            result = pair if result is None else result & pair
        return np.ones(frame.n, dtype=np.bool_) if result is None else result

    def render(self) -> str:
        parts = [self.operands[0].render()]
        for op, operand in zip(self.ops, self.operands[1:], strict=True):
            parts.extend((op, operand.render()))
        return " ".join(parts)


@dataclass(frozen=True)
class _Member(_Condition):
    column: _Column
    values: tuple[Scalar, ...]
    negated: bool

    def mask(self, frame: _Frame) -> BoolArray:
        hit = frame.isin(self.column, self.values)
        return ~hit if self.negated else hit

    def render(self) -> str:
        items = ", ".join(_render_value(v) for v in self.values)
        if len(self.values) == 1:
            items += ","
        word = "not in" if self.negated else "in"
        return f"{self.column.render()} {word} ({items})"


# --- Evaluation on data --------------------------------------------------------------------------


class _Frame:
    """The data a rule is evaluated on, with per-column views built once per evaluation."""

    def __init__(self, data: pd.DataFrame) -> None:
        self._data = data
        self.n = len(data)
        self._numeric: dict[str, _NumericColumn] = {}
        self._categorical: dict[str, _CategoricalColumn] = {}

    def _series(self, name: str) -> pd.Series[Any]:
        column = self._data[name]
        if isinstance(column, pd.DataFrame):
            raise DataError(f"the data has several columns named {name!r}")
        return column

    def numeric(self, name: str) -> _NumericColumn:
        if name not in self._numeric:
            self._numeric[name] = _NumericColumn.of(self._series(name), name)
        return self._numeric[name]

    def categorical(self, name: str) -> _CategoricalColumn:
        if name not in self._categorical:
            self._categorical[name] = _CategoricalColumn(self._series(name))
        return self._categorical[name]

    def compare(self, left: _Operand, op: str, right: _Operand) -> BoolArray:
        if isinstance(left, _Value):
            if isinstance(right, _Value):
                raise ExpressionError("cannot compare two constants")
            left, op, right = right, _FLIPPED[op], left
        if isinstance(right, _Column):
            return self._compare_columns(left, op, right)
        if left.kind is FeatureKind.NUMERIC:
            return self.numeric(left.name).compare(op, right.value)
        hit = self.categorical(left.name).equals(right.value)
        return hit if op == "==" else ~hit

    def _compare_columns(self, left: _Column, op: str, right: _Column) -> BoolArray:
        if left.kind is FeatureKind.NUMERIC:
            x, y = self.numeric(left.name), self.numeric(right.name)
            hit = np.asarray(_OPERATORS[op](x.values, y.values), dtype=np.bool_)
            return _with_missing(hit, op, x.missing, y.missing)
        p, q = self.categorical(left.name), self.categorical(right.name)
        same = np.asarray(p.labels() == q.labels(), dtype=np.bool_) & ~p.missing & ~q.missing
        return same if op == "==" else ~same

    def isin(self, column: _Column, values: tuple[Scalar, ...]) -> BoolArray:
        if column.kind is FeatureKind.NUMERIC:
            return self.numeric(column.name).isin(values)
        return self.categorical(column.name).isin(values)


def _with_missing(hit: BoolArray, op: str, *missing: BoolArray | None) -> BoolArray:
    """Force rows with a missing operand to False (True for ``!=``)."""
    masks = [m for m in missing if m is not None]
    if not masks:
        return hit
    absent = masks[0] if len(masks) == 1 else np.logical_or.reduce(masks)
    return np.where(absent, op == "!=", hit)


@dataclass(frozen=True)
class _NumericColumn:
    values: npt.NDArray[Any]
    """Integer or float values; NaN (for floats) already behaves as a missing value should."""
    missing: BoolArray | None
    """Missing rows not already NaN (masked extension arrays), if any."""

    @classmethod
    def of(cls, series: pd.Series[Any], name: str) -> _NumericColumn:
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

    def compare(self, op: str, value: Scalar) -> BoolArray:
        number = int(value) if isinstance(value, bool) else value
        hit = np.asarray(_OPERATORS[op](self.values, number), dtype=np.bool_)
        return _with_missing(hit, op, self.missing)

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


class _CategoricalColumn:
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

    def isin(self, values: tuple[Scalar, ...]) -> BoolArray:
        """Rows whose value is one of ``values`` (never the missing ones)."""
        if self._labels is not None:
            return self._with_codes(set(values))
        return self._present(self._series.isin(list(values)).to_numpy(dtype=bool, na_value=False))

    def labels(self) -> npt.NDArray[np.object_]:
        """Values as Python objects, None where missing (for column-to-column equality)."""
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
