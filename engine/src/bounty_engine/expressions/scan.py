"""Checks before the Python parser sees a rule: length, characters, nesting, strings, backticks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bounty_engine.errors import ExpressionError
from bounty_engine.expressions.limits import MAX_EXPRESSION_LENGTH, MAX_NESTING_DEPTH

_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
_PREFIX_SIGNS = "-+~"


@dataclass(frozen=True)
class Scanned:
    source: str
    """The text with each backtick-quoted name replaced by underscores of the same length, and
    comments and line breaks (outside strings) by spaces: one line, same offsets as the text."""
    quoted: dict[int, str]
    """Offset of each backtick-quoted name -> the name."""


def scan(text: str) -> Scanned:
    """One linear pass: length, bad characters, nesting caps, string and backtick boundaries."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"the rule is too long ({len(text)} characters; the limit is {MAX_EXPRESSION_LENGTH})",
            offset=MAX_EXPRESSION_LENGTH,
            text=text,
        )
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
    return Scanned("".join(out), quoted)


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
