"""Team name keys become confusable skeletons: a name cannot look like another team's.

Revision ID: 20261201_team_name_skeletons
Revises: 20261201_audit_append_only
Create Date: 2026-12-01 10:05:00
"""

import json
import string
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_team_name_skeletons"
down_revision: str | None = "20261201_audit_append_only"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEAMS = sa.table(
    "teams",
    sa.column("id", sa.Integer),
    sa.column("round_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("name_key", sa.String),
)


# A frozen copy of the key as this revision defines it (app/teams/names.py at the time): a
# revision never imports live code, which may change after it has run.
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


def _skeleton(text: str) -> str:
    """The TR39-style skeleton of ``text``: NFD, every confusable character replaced by its
    class representative, NFD again."""
    canonical = _canonical()
    mapped = "".join(canonical.get(c, c) for c in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


def _team_name_key(name: str) -> str:
    """The key of this revision: the confusable skeleton of the caselessly matched name."""
    return _skeleton(_caseless(name))


def _caseless(name: str) -> str:
    """The key of the previous revision (Unicode caseless matching)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def _rekey(key: Callable[[str], str]) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_TEAMS.c.id, _TEAMS.c.round_id, _TEAMS.c.name)).all()
    same: dict[tuple[int, str], list[str]] = defaultdict(list)
    for _, round_id, name in rows:
        same[(round_id, key(name))].append(name)
    if clashes := [names for names in same.values() if len(names) > 1]:
        raise RuntimeError(
            "teams of one round have names that look alike; rename all but one of each set, "
            f"then upgrade again: {clashes}"
        )
    for team_id, _, name in rows:
        bind.execute(_TEAMS.update().where(_TEAMS.c.id == team_id).values(name_key=key(name)))


def upgrade() -> None:
    _rekey(_team_name_key)


def downgrade() -> None:
    _rekey(_caseless)
