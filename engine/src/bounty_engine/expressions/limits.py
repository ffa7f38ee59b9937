"""Caps on a rule's size, so that hostile input is refused cheaply and every pass stays bounded."""

from __future__ import annotations

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
