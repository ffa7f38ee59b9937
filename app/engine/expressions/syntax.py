"""Python's parser on the scanned rule: syntax errors, tree-size caps, and error positions."""

from __future__ import annotations

import ast
import warnings

from app.engine.errors import ExpressionError
from app.engine.expressions.limits import MAX_AST_DEPTH, MAX_AST_NODES

_SKIPPED = " \t\f\r\n)"


class Source:
    """The rule's text, and the map from parser positions (UTF-8 byte columns) to its offsets."""

    def __init__(self, text: str, parsed: str, shift: int) -> None:
        self.text = text
        self._shift = shift
        self._encoded = None if parsed.isascii() else parsed.encode()

    def _offset(self, column: int) -> int:
        if self._encoded is not None:
            column = len(self._encoded[:column].decode("utf-8", "ignore"))
        return self._shift + column

    def start(self, node: ast.AST) -> int | None:
        column = getattr(node, "col_offset", None)
        return None if column is None else self._offset(column)

    def end(self, node: ast.AST) -> int | None:
        column = getattr(node, "end_col_offset", None)
        return None if column is None else self._offset(column)

    def after(self, node: ast.AST) -> int | None:
        """Offset of the first character after ``node`` that is not a space or ')'."""
        offset = self.end(node)
        if offset is None:
            return self.start(node)
        while offset < len(self.text) and self.text[offset] in _SKIPPED:
            offset += 1
        return offset

    def error(
        self, message: str, node: ast.AST | None = None, offset: int | None = None
    ) -> ExpressionError:
        """An error at ``node`` (or at ``offset``)."""
        if offset is None and node is not None:
            offset = self.start(node)
        return ExpressionError(message, offset=offset, text=self.text)


def parse_python(text: str, scanned: str) -> tuple[ast.expr, Source]:
    """Parse the scanned source and cap the tree's size; every failure is an ExpressionError."""
    stripped = scanned.lstrip(" \t\f")  # the parser refuses leading indentation
    shift = len(scanned) - len(stripped)
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
    source = Source(text, stripped, shift)
    _check_tree_size(tree.body, source)
    return tree.body, source


def _check_tree_size(root: ast.expr, source: Source) -> None:
    """Cap node count and depth without recursion, so later recursive passes are safe."""
    count = 0
    stack: list[tuple[ast.AST, int, int | None]] = [(root, 1, None)]
    while stack:
        node, depth, parent_offset = stack.pop()
        offset = source.start(node)
        offset = parent_offset if offset is None else offset
        count += 1
        if count > MAX_AST_NODES:
            raise source.error(
                f"the rule is too large (more than {MAX_AST_NODES} syntax nodes)", offset=offset
            )
        if depth > MAX_AST_DEPTH:
            raise source.error(
                f"the rule is nested too deeply (the limit is {MAX_AST_DEPTH} levels)",
                offset=offset,
            )
        stack.extend((child, depth + 1, offset) for child in ast.iter_child_nodes(node))
