"""Routes: the round's audit log, read page by page or exported whole (its organizer only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.audit import service
from app.audit.schemas import AuditPageOut
from app.auth.deps import CurrentUser
from app.core.deps import MAX_ID, RoundSlug, SessionDep
from app.core.downloads import attachment
from app.core.openapi import problems
from app.rounds.access import require_organizer_of, visible_round

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/rounds/{slug}/audit", response_model=AuditPageOut, responses=problems(401, 403, 404))
def read_audit_log(
    slug: RoundSlug,
    session: SessionDep,
    user: CurrentUser,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="Events after this id.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    action: Annotated[str | None, Query(max_length=60, description="Only this action.")] = None,
) -> AuditPageOut:
    """The round's append-only log of organizer actions, team changes and verdicts, oldest
    first (the round's organizer only)."""
    round_ = visible_round(session, slug, user)
    require_organizer_of(round_, user)
    page = service.events(session, round_.id, after=after, limit=limit, action=action)
    next_after = page[-1].id if len(page) == limit else None
    return AuditPageOut(round=round_.slug, events=list(page), next_after=next_after)


@router.get(
    "/rounds/{slug}/audit.jsonl",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/x-ndjson": {}},
            "description": "Every event as one JSON object per line, oldest first.",
        },
        **problems(401, 403, 404),
    },
)
def export_audit_log(slug: RoundSlug, session: SessionDep, user: CurrentUser) -> StreamingResponse:
    """The round's whole audit log as JSON Lines (the round's organizer only)."""
    round_ = visible_round(session, slug, user)
    require_organizer_of(round_, user)
    lines = list(service.export_lines(session, round_.id))  # read before the session closes
    return StreamingResponse(
        iter(lines),
        media_type="application/x-ndjson",
        headers=attachment(f"{round_.slug}-audit.jsonl"),
    )
