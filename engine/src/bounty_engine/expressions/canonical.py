"""Canonical spelling of a rule's names, constants and ``in`` lists."""

from __future__ import annotations

import keyword
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bounty_engine.expressions.nodes import Scalar


def render_name(name: str) -> str:
    """A column name, backtick-quoted unless it is a plain identifier."""
    plain = (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("_")
        and nfkc(name) == name
    )
    return name if plain else f"`{name}`"


def render_value(value: Scalar) -> str:
    if isinstance(value, str):
        return quote(value)
    return repr(value)


def quote(value: str) -> str:
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


def normalized_list(values: Iterable[Scalar]) -> tuple[Scalar, ...]:
    """Deduplicated (first spelling kept; 1 == 1.0 == True) and sorted."""
    unique = list(dict.fromkeys(values))
    numbers = sorted((v for v in unique if not isinstance(v, str)), key=float)
    return (*numbers, *sorted(v for v in unique if isinstance(v, str)))


def nfkc(name: str) -> str:
    """``name`` as Python normalizes identifiers."""
    return unicodedata.normalize("NFKC", name)
