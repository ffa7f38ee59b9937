"""What the audit log's routes return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ActorOut(BaseModel):
    """Who acted; null for the evaluation workers (verdicts)."""

    id: int = Field(examples=[3])
    display_name: str = Field(examples=["Grace (organizer)"])


class AuditEventOut(BaseModel):
    """One entry of the append-only log."""

    id: int = Field(
        description="Increasing with time; pass the last one as `after` to page on.",
        examples=[42],
    )
    at: datetime = Field(examples=["2026-11-20T14:03:11Z"])
    action: str = Field(
        description="round.created, round.updated, round.dataset_uploaded, "
        "round.base_model_set, round.opened, round.frozen, round.closed, round.imported, "
        "submission.disqualified, submission.released, verdict (by a worker), team.created, "
        "team.joined",
        examples=["verdict"],
    )
    actor: ActorOut | None = Field(examples=[None])
    detail: dict[str, Any] = Field(
        examples=[{"submission_id": 17, "outcome": "accepted", "reason": "accepted"}]
    )


class AuditPageOut(BaseModel):
    """A page of the log, oldest first."""

    round: str = Field(examples=["adult-income-demo"])
    events: list[AuditEventOut]
    next_after: int | None = Field(
        description="The `after` of the next page, or null when this page is the last.",
        examples=[42],
    )
