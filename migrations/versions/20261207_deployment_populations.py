"""Deployment populations: labelled tables measured on every model version, never deciding.

Revision ID: 20261207_populations
Revises: 20261207_loss_costs
Create Date: 2026-12-07 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_populations"
down_revision: str | None = "20261207_loss_costs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "populations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "round_id", sa.Integer(), sa.ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.Column("data_sha", sa.String(64), nullable=False),
        sa.Column(
            "uploaded_by",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        _when("created_at"),
        sa.Column("base_outputs_sha", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        _when("lease_expires_at", nullable=True),
        sa.UniqueConstraint("round_id", "name"),
    )
    op.create_index("ix_populations_round_id", "populations", ["round_id"])
    op.create_table(
        "population_outputs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "population_id",
            sa.Integer(),
            sa.ForeignKey("populations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "submission_id",
            sa.Integer(),
            sa.ForeignKey("submissions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("outputs_sha", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _when("created_at"),
        sa.UniqueConstraint("population_id", "submission_id"),
    )
    op.create_index("ix_population_outputs_population_id", "population_outputs", ["population_id"])
    op.create_table(
        "round_deployers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "round_id", sa.Integer(), sa.ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "granted_by",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        _when("created_at"),
        sa.UniqueConstraint("round_id", "user_id"),
    )
    op.create_index("ix_round_deployers_round_id", "round_deployers", ["round_id"])
    op.create_table(
        "watched_groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "round_id", sa.Integer(), sa.ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column(
            "created_by",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        _when("created_at"),
        sa.UniqueConstraint("round_id", "expression"),
    )
    op.create_index("ix_watched_groups_round_id", "watched_groups", ["round_id"])


def downgrade() -> None:
    for table in ("watched_groups", "round_deployers", "population_outputs", "populations"):
        op.drop_table(table)
