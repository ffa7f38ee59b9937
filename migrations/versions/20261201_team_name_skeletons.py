"""Team name keys become confusable skeletons: a name cannot look like another team's.

Revision ID: 20261201_team_name_skeletons
Revises: 20261201_audit_append_only
Create Date: 2026-12-01 10:05:00
"""

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from app.teams.schemas import team_name_key

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
    _rekey(team_name_key)


def downgrade() -> None:
    _rekey(_caseless)
