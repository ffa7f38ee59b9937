"""What the audit log's routes return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ActorOut(BaseModel):
    """Who acted; null for the evaluation workers (verdicts)."""

    id: int
    display_name: str


class AuditEventOut(BaseModel):
    """One entry of the append-only log."""

    id: int = Field(description="Increasing with time; pass the last one as `after` to page on.")
    at: datetime
    action: str = Field(
        description="round.created, round.updated, round.dataset_uploaded, "
        "round.base_model_set, round.opened, round.frozen, round.closed, "
        "submission.disqualified, verdict (by a worker), team.created, team.joined"
    )
    actor: ActorOut | None
    detail: dict[str, Any]


class AuditPageOut(BaseModel):
    """A page of the log, oldest first."""

    round: str
    events: list[AuditEventOut]
    next_after: int | None = Field(
        description="The `after` of the next page, or null when this page is the last."
    )
