"""Team names: the stored form of a name, and the key under which names of a round are unique
(so that no team takes a name that looks like another's)."""

from __future__ import annotations

import unicodedata

from app.teams.confusables import skeleton

NAME_MAX = 80


def normalize_team_name(raw: str) -> str:
    """The stored form of a team name: NFKC, no control or format characters, single spaces.

    Raises ``ValueError`` for an invisible-character trick or a name empty or too long once
    normalized (NFKC can lengthen a string).
    """
    name = unicodedata.normalize("NFKC", raw)
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise ValueError("the name may not contain control, format or unassigned characters")
    name = " ".join(name.split())
    if not 1 <= len(name) <= NAME_MAX:
        raise ValueError(f"the name must be 1 to {NAME_MAX} characters long")
    return name


def team_name_key(name: str) -> str:
    """The form under which names of one round must be unique: the confusable skeleton of
    the name under Unicode caseless matching, so that no team can take a name that looks like
    another's."""
    return skeleton(unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold()))
