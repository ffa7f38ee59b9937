"""Errors naming the Python constructs a rule may not use."""

from __future__ import annotations

import ast

from bounty_engine.errors import ExpressionError
from bounty_engine.expressions.syntax import Source

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


def refusal(node: ast.AST, source: Source) -> ExpressionError:
    """An error naming the construct ``node`` is."""
    if isinstance(node, ast.BinOp):
        symbol = _BINARY_SYMBOLS.get(type(node.op), "?")
        hint = " (use and, or, not)" if symbol in {"&", "|", "^"} else ""
        return source.error(
            f"operator '{symbol}' is not allowed{hint}", offset=source.after(node.left)
        )
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            return source.error("'not' applies to conditions, not to values", node)
        return source.error("operator '~' is not allowed (use not)", node)
    if isinstance(node, ast.Attribute | ast.Subscript):
        return source.error(_REFUSED[type(node)], offset=source.after(node.value))
    if isinstance(node, ast.Constant):
        return source.error(_constant_message(node.value), node)
    if isinstance(node, ast.Name):
        return source.error("only constants are allowed here, not column names", node)
    message = _REFUSED.get(type(node), f"{type(node).__name__} expressions are not allowed")
    return source.error(message, node)


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
