"""Reading a round's audit log (it is written by ``app.core.audit.record``, never changed)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.audit.schemas import ActorOut, AuditEventOut
from app.auth.models import User
from app.core.audit import AuditEvent

EXPORT_BATCH = 1000


def _query(round_id: int, after: int, action: str | None) -> Select[AuditEvent, str]:
    query = (
        select(AuditEvent, User.display_name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.round_id == round_id, AuditEvent.id > after)
        .order_by(AuditEvent.id)
    )
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return query


def _out(event: AuditEvent, actor_name: str | None) -> AuditEventOut:
    actor = None
    if event.actor_id is not None:
        actor = ActorOut(id=event.actor_id, display_name=actor_name or "")
    return AuditEventOut(
        id=event.id, at=event.created_at, action=event.action, actor=actor, detail=event.detail
    )


def events(
    session: Session, round_id: int, *, after: int = 0, limit: int, action: str | None = None
) -> Sequence[AuditEventOut]:
    """Up to ``limit`` events of the round with an id above ``after``, oldest first."""
    rows = session.execute(_query(round_id, after, action).limit(limit)).all()
    return [_out(event, name) for event, name in rows]


def export_lines(session: Session, round_id: int) -> Iterator[bytes]:
    """The round's whole log as JSON Lines, read in batches."""
    after = 0
    while batch := events(session, round_id, after=after, limit=EXPORT_BATCH):
        for event in batch:
            yield (json.dumps(event.model_dump(mode="json"), sort_keys=True) + "\n").encode()
        after = batch[-1].id
