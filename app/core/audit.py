"""The append-only audit log of organizer actions and verdicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    """One action: who did what to which round, when."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_round_action", "round_id", "action", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), default=None
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def record(
    session: Session, action: str, *, round_id: int | None, actor_id: int | None, **detail: Any
) -> None:
    """Append an event in the caller's transaction."""
    session.add(AuditEvent(round_id=round_id, actor_id=actor_id, action=action, detail=detail))
