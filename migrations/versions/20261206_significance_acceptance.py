"""Rounds choose their acceptance test (significance by default); versions keep standard errors.

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
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("standard_errors", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_column("standard_errors")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("planned_submissions")
        batch_op.drop_column("confidence")
        batch_op.drop_column("acceptance_test")
