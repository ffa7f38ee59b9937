"""Rounds choose their acceptance test (significance by default) and may guard the test split;
versions keep standard errors; submissions held by the guard can be released.

Existing rounds keep the threshold rule they were decided by, so replays stay exact.

Revision ID: 20261206_significance
Revises: 20261201_team_name_skeletons
Create Date: 2026-12-06 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_significance"
down_revision: str | None = "20261201_team_name_skeletons"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "acceptance_test", sa.String(length=20), nullable=False, server_default="threshold"
            )
        )
        batch_op.add_column(
            sa.Column("confidence", sa.Float(), nullable=False, server_default="0.95")
        )
        batch_op.add_column(
            sa.Column("planned_submissions", sa.Integer(), nullable=False, server_default="1000")
        )
        batch_op.add_column(
            sa.Column("test_guard", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("standard_errors", sa.JSON(), nullable=True))
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("released_at")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_column("standard_errors")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("test_guard")
        batch_op.drop_column("planned_submissions")
        batch_op.drop_column("confidence")
        batch_op.drop_column("acceptance_test")
