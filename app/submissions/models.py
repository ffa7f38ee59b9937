"""ORM model of submissions, which is also the evaluation job queue (docs/architecture.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class SubmissionStatus(StrEnum):
    """Where a submission is: queued -> running -> evaluated -> decided."""

    QUEUED = "queued"
    RUNNING = "running"
    EVALUATED = "evaluated"
    DECIDED = "decided"


class Submission(Base):
    """A pair (g, h) submitted by a team, its evaluation job and its verdict."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        Index("ix_submissions_queue", "status", "lease_expires_at"),
        Index("ix_submissions_round_order", "round_id", "id"),
        Index("ix_submissions_team_created", "team_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)  # arrival order
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    note: Mapped[str] = mapped_column(Text, default="")

    group_kind: Mapped[str] = mapped_column(String(10))  # rule | model
    group_expression: Mapped[str | None] = mapped_column(Text, default=None)
    group_columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    group_model_sha: Mapped[str | None] = mapped_column(String(64), default=None)
    model_sha: Mapped[str] = mapped_column(String(64))
    model_format: Mapped[str] = mapped_column(String(10))

    # The job
    status: Mapped[SubmissionStatus] = mapped_column(String(20), default=SubmissionStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    outputs_sha: Mapped[str | None] = mapped_column(String(64), default=None)
    eval_error: Mapped[str | None] = mapped_column(Text, default=None)

    # The verdict
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)
    reason: Mapped[str | None] = mapped_column(String(40), default=None)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    version: Mapped[int | None] = mapped_column(default=None)
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    disqualified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    disqualified_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # Set when the organizer released a pair the test-split guard held for review: replays
    # then decide it without the guard.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
