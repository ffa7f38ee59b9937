"""Routes: follow a submission (polling or Server-Sent Events), list submissions, quotas and
expression checks. Submitting and the organizer's actions are in ``app.evaluation.endpoints``."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.deps import BearerToken, CurrentUser, OptionalUser, resolve_user
from app.auth.models import User
from app.core.db import transaction
from app.core.deps import (
    MAX_ID,
    RoundSlug,
    SessionDep,
    SettingsDep,
    StoreDep,
    SubmissionId,
    read_in_thread,
    run_read,
)
from app.core.errors import NotAuthenticated
from app.core.notify import Notifier, about_submission
from app.core.openapi import problems
from app.core.settings import Settings
from app.rounds.access import get_round, is_organizer_of, visible_round
from app.rounds.models import Round
from app.submissions import service
from app.submissions.models import Submission, SubmissionStatus
from app.submissions.problems import SubmissionNotFound
from app.submissions.schemas import (
    ExpressionCheckOut,
    ExpressionIn,
    QuotaOut,
    SubmissionOut,
)
from app.submissions.views import to_out, visible_submission
from app.teams.service import require_team, team_of

router = APIRouter(prefix="/api/v1", tags=["submissions"])

SSE_POLL_SECONDS = 0.5
SSE_KEEPALIVE_SECONDS = 15.0


@router.get("/rounds/{slug}/quota", response_model=QuotaOut, responses=problems(401, 403, 404))
def get_quota(slug: RoundSlug, user: CurrentUser, session: SessionDep) -> QuotaOut:
    """The caller's team's submissions today: the limit, how many are used and left, and when
    the count resets (midnight UTC)."""
    round_ = visible_round(session, slug, user)
    return service.quota(session, round_, require_team(session, user, round_))


@router.post(
    "/rounds/{slug}/expressions/check",
    response_model=ExpressionCheckOut,
    responses=problems(401, 404, 409),
)
def check_expression(
    slug: RoundSlug, body: ExpressionIn, session: SessionDep, store: StoreDep, user: OptionalUser
) -> ExpressionCheckOut:
    """Check a group rule against the round's schema without submitting it (no quota used):
    whether it is valid, where the error is if not, which features it reads, and how many rows
    of the public train split it selects, and the current model's loss and error rates on
    them (by the round's loss: on a cost round, the cost). For live validation while typing."""
    round_ = visible_round(session, slug, user)
    return service.check_expression(session, store, round_, body.expression)


@router.get(
    "/submissions/{submission_id}", response_model=SubmissionOut, responses=problems(401, 404)
)
async def get_submission(
    submission_id: SubmissionId, request: Request, settings: SettingsDep, token: BearerToken
) -> Response:
    """A submission of the caller's team (or of a round the caller organizes)."""

    # Polled while a verdict runs: one trip to the thread pool, serialized once.
    def read(session: Session) -> bytes:
        user = _signed_in(session, token, settings)
        sub, round_ = visible_submission(session, user, submission_id)
        shown = to_out(sub, round_, organizer=is_organizer_of(round_, user))
        return shown.model_dump_json().encode()

    return Response(await read_in_thread(request, read), media_type="application/json")


def _signed_in(session: Session, token: str | None, settings: Settings) -> User:
    """The caller of a read done in ``read_in_thread`` (as ``CurrentUser`` would be)."""
    user = resolve_user(session, token, settings)
    if user is None:
        raise NotAuthenticated("sign in first", headers={"WWW-Authenticate": "Bearer"})
    return user


_SUBMISSION_LIST: Final = TypeAdapter(list[SubmissionOut])


@router.get(
    "/rounds/{slug}/submissions",
    response_model=list[SubmissionOut],
    responses=problems(401, 403, 404),
)
async def list_submissions(
    slug: RoundSlug,
    request: Request,
    settings: SettingsDep,
    token: BearerToken,
    status: Annotated[SubmissionStatus | None, Query()] = None,
    outcome: Annotated[
        str | None, Query(pattern="^(accepted|rejected|invalid|disqualified)$")
    ] = None,
    team_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Organizers only.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Page: submissions older than this.")
    ] = None,
) -> Response:
    """The caller's team's submissions, newest first; the organizer sees every team's."""

    # Polled while verdicts run: one trip to the thread pool (not one per dependency), and the
    # page serialized once (not validated again against the response model first).
    def page(session: Session) -> bytes:
        user = _signed_in(session, token, settings)
        round_ = get_round(session, slug)
        organizer = is_organizer_of(round_, user)
        query = select(Submission).where(Submission.round_id == round_.id)
        if organizer:
            if team_id is not None:
                query = query.where(Submission.team_id == team_id)
        else:
            team = team_of(session, user.id, round_.id)
            if team is None:
                return b"[]"
            query = query.where(Submission.team_id == team.id)
        if status is not None:
            query = query.where(Submission.status == status)
        if outcome is not None:
            query = query.where(Submission.outcome == outcome)
        if before_id is not None:
            query = query.where(Submission.id < before_id)
        subs = session.scalars(query.order_by(Submission.id.desc()).limit(limit))
        return _SUBMISSION_LIST.dump_json([to_out(s, round_, organizer=organizer) for s in subs])

    return Response(await read_in_thread(request, page), media_type="application/json")


@router.get(
    "/submissions/{submission_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **problems(401, 404)},
)
async def submission_events(
    submission_id: SubmissionId, request: Request, settings: SettingsDep, token: BearerToken
) -> StreamingResponse:
    """Server-Sent Events: a ``status`` event at every change, ending with the verdict."""

    notifier: Notifier = request.app.state.notifier
    topic = about_submission(submission_id)
    mark = notifier.mark()  # before the first read: a change after it is not missed

    def opening(session: Session) -> tuple[bool, SubmissionOut]:
        user = _signed_in(session, token, settings)
        sub, round_ = visible_submission(session, user, submission_id)
        organizer = is_organizer_of(round_, user)
        return organizer, to_out(sub, round_, organizer=organizer)

    # Opened by every poller, mostly on decided submissions: the caller, the check and the
    # first event in one trip to the reads' threads.
    organizer, first = await read_in_thread(request, opening)
    factory = request.app.state.session_factory

    def snapshot() -> SubmissionOut:
        with transaction(factory, write=False) as s:
            sub = s.get(Submission, submission_id)
            round_ = s.get(Round, sub.round_id) if sub else None
            if sub is None or round_ is None:
                raise SubmissionNotFound("no such submission")
            return to_out(sub, round_, organizer=organizer)

    def changed(last: str | None) -> SubmissionOut | None:
        # Most wake-ups and polls find the status as it was: one indexed read of one column
        # tells so, without loading the submission and its round.
        with transaction(factory, write=False) as s:
            status = s.scalar(select(Submission.status).where(Submission.id == submission_id))
        return None if status is not None and status == last else snapshot()

    async def stream() -> AsyncIterator[str]:
        current: SubmissionOut | None = first
        last: str | None = None
        quiet = 0.0
        since = mark
        while True:
            if current is not None and current.status != last:
                last = current.status
                quiet = 0.0
                yield f"event: status\ndata: {json.dumps(current.model_dump(mode='json'))}\n\n"
                if current.status == SubmissionStatus.DECIDED:
                    return
            elif quiet >= SSE_KEEPALIVE_SECONDS:
                quiet = 0.0
                yield ": keep-alive\n\n"
            started = time.monotonic()
            await notifier.wait_async(since, SSE_POLL_SECONDS, topic)
            quiet += time.monotonic() - started
            if await request.is_disconnected():
                return
            since = notifier.mark()
            current = await run_read(request, functools.partial(changed, last))

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
