"""Round revision counter, case-insensitive team name keys, audit index by round and action.

- ``rounds.revision``: bumped by every change a leaderboard shows, so readers can cache.
- ``teams.name_key``: the NFKC case-folded name, unique per round (backfilled from ``name``).
- ``audit_events``: one index on (round_id, action, id) replaces the index on round_id.

Revision ID: 20261124_round_revision
Revises: 20261124_initial
Create Date: 2026-11-24 12:44:42
"""

import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261124_round_revision"
down_revision: str | None = "20261124_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _name_key(name: str) -> str:
    """Unicode caseless matching, as ``app.teams.schemas.team_name_key`` did at this revision
    (copied: a revision must not change when the app does)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_round_id"))
        batch_op.create_index(
            "ix_audit_events_round_action", ["round_id", "action", "id"], unique=False
        )

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))

    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=255), nullable=True))
    teams = sa.table(
        "teams",
        sa.column("id", sa.Integer),
        sa.column("round_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("name_key", sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(teams.c.id, teams.c.round_id, teams.c.name)).all()
    same: dict[tuple[int, str], list[str]] = defaultdict(list)
    for _, round_id, name in rows:
        same[(round_id, _name_key(name))].append(name)
    clashes = [names for names in same.values() if len(names) > 1]
    if clashes:
        raise RuntimeError(
            "teams of one round have names that differ only in case or Unicode form; rename "
            f"all but one of each set, then upgrade again: {clashes}"
        )
    for team_id, _, name in rows:
        bind.execute(teams.update().where(teams.c.id == team_id).values(name_key=_name_key(name)))
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=255), nullable=False)
        batch_op.create_unique_constraint("uq_teams_round_id_name_key", ["round_id", "name_key"])


def downgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_constraint("uq_teams_round_id_name_key", type_="unique")
        batch_op.drop_column("name_key")

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("revision")

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_round_action")
        batch_op.create_index(batch_op.f("ix_audit_events_round_id"), ["round_id"], unique=False)
