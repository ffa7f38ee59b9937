"""ORM models of rounds and their model versions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class RoundStatus(StrEnum):
    """The lifecycle: draft -> open -> frozen -> closed."""

    DRAFT = "draft"
    OPEN = "open"
    FROZEN = "frozen"
    CLOSED = "closed"


class Disclosure(StrEnum):
    """Which holdout numbers participants see (docs/disclosure.md)."""

    ROUNDED = "rounded"
    EXACT = "exact"
    NONE = "none"


class Round(Base):
    """A bounty round: its rules, data, base model and lifecycle."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[RoundStatus] = mapped_column(String(20), default=RoundStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    # Rules
    loss_kind: Mapped[str] = mapped_column(String(20), default="zero_one")
    loss_clip: Mapped[float | None] = mapped_column(Float, default=None)
    # The cost-weighted loss's matrix: costs[truth][prediction], by class code.
    loss_costs: Mapped[list[list[int]] | None] = mapped_column(JSON, default=None)
    alpha: Mapped[float] = mapped_column(Float, default=0.0)
    min_group_rows: Mapped[int] = mapped_column(default=1)
    repair_alpha: Mapped[float] = mapped_column(Float, default=0.0)
    # How an improvement is judged enough (docs/acceptance.md). Rounds made before the
    # significance rule existed keep the threshold rule they were decided by.
    acceptance_test: Mapped[str] = mapped_column(
        String(20), default="significance", server_default="threshold"
    )
    confidence: Mapped[float] = mapped_column(Float, default=0.95, server_default="0.95")
    planned_submissions: Mapped[int] = mapped_column(default=1000, server_default="1000")
    # Hold, for the organizer's review, a pair that makes the model worse on the sealed test
    # split beyond its interval (docs/acceptance.md, "The test-split guard").
    test_guard: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    daily_quota: Mapped[int] = mapped_column(default=10)
    disclosure: Mapped[Disclosure] = mapped_column(String(20), default=Disclosure.ROUNDED)
    max_team_size: Mapped[int] = mapped_column(default=5)

    # Data: the feature schema and the splits, stored as Parquet artifacts
    label: Mapped[str | None] = mapped_column(String(200), default=None)
    feature_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    split_seed: Mapped[int | None] = mapped_column(default=None)
    split_fractions: Mapped[list[float] | None] = mapped_column(JSON, default=None)
    train_sha: Mapped[str | None] = mapped_column(String(64), default=None)
    holdout_sha: Mapped[str | None] = mapped_column(String(64), default=None)
    test_sha: Mapped[str | None] = mapped_column(String(64), default=None)
    n_train: Mapped[int] = mapped_column(default=0)
    n_holdout: Mapped[int] = mapped_column(default=0)
    n_test: Mapped[int] = mapped_column(default=0)

    # Base model f0
    base_model_sha: Mapped[str | None] = mapped_column(String(64), default=None)
    base_model_format: Mapped[str | None] = mapped_column(String(10), default=None)
    base_model_source: Mapped[str | None] = mapped_column(String(20), default=None)

    head_version: Mapped[int] = mapped_column(default=0)
    # Bumped by every change a leaderboard reader could see (a verdict, a disqualification, a
    # new team); read caches compare it instead of re-aggregating the round's submissions.
    revision: Mapped[int] = mapped_column(default=0, server_default="0")


class ModelVersion(Base):
    """One immutable version of a round's model (docs/acceptance.md)."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("round_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))  # base | patch | pointer
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL"), default=None
    )
    target_version: Mapped[int | None] = mapped_column(default=None)
    holdout_loss: Mapped[float] = mapped_column(Float)
    train_loss: Mapped[float] = mapped_column(Float)
    test_loss: Mapped[float | None] = mapped_column(Float, default=None)
    # Per split, the standard errors of the loss change from the previous version ("step") and
    # from the base model ("base"), so reports can show intervals (null for older versions).
    standard_errors: Mapped[dict[str, dict[str, float]] | None] = mapped_column(JSON, default=None)
    # The version's predictions on the public train split (an .npz artifact of label codes),
    # which participants download to check pairs locally; null for a patch a repair followed.
    train_predictions_sha: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
