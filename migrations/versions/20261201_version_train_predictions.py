"""Model versions keep their predictions on the train split, for participants' local checks.

Revision ID: 20261201_train_predictions
Revises: 20261124_round_revision
Create Date: 2026-12-01 06:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_train_predictions"
down_revision: str | None = "20261124_round_revision"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("train_predictions_sha", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_column("train_predictions_sha")
