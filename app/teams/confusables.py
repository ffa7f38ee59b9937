"""Confusable characters (Unicode TR39): names that look alike get the same skeleton.

The equivalence classes come from the Unicode confusables data as packaged by
``confusable-homoglyphs``; each class is mapped to one canonical member, so "Fаir" (with a
Cyrillic а) and "Fair", or "0ops" and "Oops", share a skeleton. The classes are closed under ASCII
case, so skeletons of casefolded text compare caselessly too.
"""

from __future__ import annotations

import json
import string
import unicodedata
from functools import cache
from importlib import resources

_MARKS = "\u200e\u200f"  # the data wraps right-to-left characters in direction marks


@cache
def _canonical() -> dict[str, str]:
    """Each confusable character's class representative (the class's smallest member)."""
    data = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:  # path compression
            parent[x], x = root, parent.get(x, x)
        return root

    def union(x: str, y: str) -> None:
        a, b = find(x), find(y)
        if a != b:
            parent[max(a, b)] = min(a, b)

    for char, glyphs in data.items():
        for glyph in glyphs:
            union(char, glyph["c"].strip(_MARKS))
    # Close the classes under ASCII case, so that a skeleton of casefolded text still matches
    # "0" with "O" (which casefolds to "o") and "l" with "I" (to "i"). Only ASCII: closing
    # under every case pair would chain classes (f ~ long s, which casefolds to s).
    for upper in string.ascii_uppercase:
        union(upper, upper.lower())
    return {char: root for char in parent if (root := find(char)) != char}


def skeleton(text: str) -> str:
    """The TR39-style skeleton of ``text``: NFD, every confusable character replaced by its
    class representative, NFD again."""
    canonical = _canonical()
    mapped = "".join(canonical.get(c, c) for c in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)
