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

from bounty_engine.expressions.limits import (
    MAX_AST_DEPTH,
    MAX_AST_NODES,
    MAX_EXPRESSION_LENGTH,
    MAX_LIST_LENGTH,
    MAX_NESTING_DEPTH,
)
from bounty_engine.expressions.nodes import BoolArray as BoolArray
from bounty_engine.expressions.nodes import Scalar as Scalar
from bounty_engine.expressions.rule import Rule, parse_rule

__all__ = [
    "MAX_AST_DEPTH",
    "MAX_AST_NODES",
    "MAX_EXPRESSION_LENGTH",
    "MAX_LIST_LENGTH",
    "MAX_NESTING_DEPTH",
    "Rule",
    "parse_rule",
]
