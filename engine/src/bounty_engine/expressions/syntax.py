"""Python's parser on the scanned rule: syntax errors, tree-size caps, and error positions."""

from __future__ import annotations

import ast
import io
import itertools
import tokenize
import warnings

from bounty_engine.errors import ExpressionError
from bounty_engine.expressions.limits import MAX_AST_DEPTH, MAX_AST_NODES

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
        diagnosis = _diagnose(stripped)
        if diagnosis is not None:
            message, column = diagnosis
            raise ExpressionError(message, offset=shift + column, text=text) from None
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


_JOINERS = ("and", "or")
_ASSIGNMENTS = {"=": "==", ":=": "=="}


def _diagnose(source: str) -> tuple[str, int] | None:
    """For a rule the parser refused, the usual mistakes it reports vaguely (often at the first
    column): a single ``=``, a rule ending in ``and``/``or``/``not``, two joiners in a row.
    Returns the message and the column of the culprit, or None to keep the parser's answer."""
    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING)
        ]
    except (tokenize.TokenError, SyntaxError):  # e.g. an unclosed bracket: the parser says so
        return None
    for token in tokens:
        if token.type == tokenize.OP and token.string in _ASSIGNMENTS:
            return (
                f"'{token.string}' is not a comparison; use '{_ASSIGNMENTS[token.string]}'",
                token.start[1],
            )
    for before, token in itertools.pairwise(tokens):
        if before.string in _JOINERS and token.string in _JOINERS:
            return (
                f"'{token.string}' follows '{before.string}': a condition is missing between them",
                token.start[1],
            )
    if tokens and tokens[-1].string in (*_JOINERS, "not"):
        last = tokens[-1]
        return f"the rule ends with '{last.string}': a condition must follow it", last.start[1]
    return None


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
