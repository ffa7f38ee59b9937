"""Routes: submit a pair, follow it (polling or Server-Sent Events), list submissions."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import AsyncIterator
from contextlib import nullcontext
from typing import Annotated, Final

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.deps import BearerToken, CurrentUser, OptionalUser, resolve_user
from app.auth.models import User
from app.core import audit
from app.core.db import begin_write, transaction, utcnow
from app.core.deps import (
    MAX_ID,
    NotifierDep,
    RoundSlug,
    SessionDep,
    SettingsDep,
    StoreDep,
    SubmissionId,
    read_in_thread,
    run_read,
    writes_late,
)
from app.core.errors import Problem
from app.core.notify import Notifier, about_submission
from app.core.openapi import problems
from app.core.settings import Settings
from app.core.storage import ArtifactStore
from app.core.uploads import received
from app.rounds.models import Round, RoundStatus
from app.rounds.service import get_round, is_organizer_of, round_schema, touch, visible_round
from app.submissions import service
from app.submissions.disclosure import verdict_for
from app.submissions.models import Submission, SubmissionStatus
from app.submissions.schemas import (
    DisqualifiedOut,
    DisqualifyIn,
    ExpressionCheckOut,
    ExpressionIn,
    QuotaOut,
    ReleasedOut,
    ReplayOut,
    SubmissionAccepted,
    SubmissionOut,
)
from app.teams.models import Team
from app.teams.service import require_team, team_of
from app.worker.replay import mark_disqualified, replay_round
from app.worker.round_state import RoundCache
from app.worker.sandbox import Limits

router = APIRouter(prefix="/api/v1", tags=["submissions"])

SSE_POLL_SECONDS = 0.5
SSE_KEEPALIVE_SECONDS = 15.0


def require_multipart(request: Request) -> None:
    """415 unless the body is multipart/form-data."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise Problem(415, "unsupported-media-type", "send the submission as multipart/form-data")


def to_out(sub: Submission, round_: Round, *, organizer: bool) -> SubmissionOut:
    """A submission as this viewer may see it."""
    return SubmissionOut(
        id=sub.id,
        round=round_.slug,
        team_id=sub.team_id,
        created_at=sub.created_at,
        status=sub.status,
        group_kind=sub.group_kind,
        group_expression=sub.group_expression,
        group_columns=sub.group_columns,
        note=sub.note,
        decided_at=sub.decided_at,
        verdict=verdict_for(sub, round_, organizer=organizer),
        disqualified=sub.disqualified_at is not None,
        released=sub.released_at is not None,
        url=f"/api/v1/submissions/{sub.id}",
    )


@router.post(
    "/rounds/{slug}/submissions",
    status_code=202,
    response_model=SubmissionAccepted,
    dependencies=[Depends(require_multipart)],
    responses={
        **problems(401, 403, 404, 409, 507),
        413: {"description": "A file is larger than the limit."},
        415: {"description": "The body is not multipart/form-data."},
        422: {"description": "The expression or a model is invalid (with the position)."},
        429: {"description": "The team's daily quota is used up (with the reset time)."},
        503: {
            "description": "The server could not check the pair, store its files or reach the "
            "database for a moment (evaluation-unavailable, storage-unavailable, "
            "database-unavailable), not through the pair's fault: nothing was stored and no "
            "quota used; try again after Retry-After with the same Idempotency-Key."
        },
    },
)
@writes_late
def submit(
    slug: RoundSlug,
    response: Response,
    user: CurrentUser,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    notifier: NotifierDep,
    model: Annotated[UploadFile, File(description="h: a skops or ONNX model file.")],
    group_expression: Annotated[
        str | None,
        Form(
            description='g as a rule, e.g. sex == "Female" and age >= 50.',
            examples=['sex == "Female" and age >= 50'],
        ),
    ] = None,
    group_model: Annotated[
        UploadFile | None, File(description="g as a 0/1 classifier (skops or ONNX).")
    ] = None,
    note: Annotated[
        str, Form(max_length=2000, examples=["older women: a tree on hours and education"])
    ] = "",
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> SubmissionAccepted:
    """Submit a pair (g, h). It is checked at once on a sample of the public train split, so
    most mistakes come back as 422; then it is stored and queued for evaluation on the holdout.
    If the server fails to run the check (a busy machine, not the pair), it tries again, then
    answers 503 with Retry-After, storing nothing. Every stored submission counts towards the
    team's daily quota, whatever its verdict, except one the platform had to abandon. A retry
    with the same ``Idempotency-Key`` returns the first submission instead of a new one."""
    round_ = get_round(session, slug)
    team = require_team(session, user, round_)
    if idempotency_key:
        existing = session.scalar(
            select(Submission).where(
                Submission.user_id == user.id, Submission.idempotency_key == idempotency_key
            )
        )
        if existing is not None:
            return _accepted(session, response, existing, round_, team)
    if round_.status != RoundStatus.OPEN:
        raise Problem(
            409, "round-not-open", f"the round is {round_.status}; it takes no submissions"
        )
    if (group_expression is None) == (group_model is None):
        raise Problem(
            422,
            "group-required",
            "give exactly one of group_expression or group_model",
            errors=[{"field": "group_expression", "message": "exactly one group is required"}],
        )
    service.require_quota(service.quota(session, round_, team))
    schema = round_schema(round_)
    sample = service.public_sample(store, round_)
    # End the read transaction before the slow part: a pair waiting for its check holds no
    # database connection (nor, on SQLite, an old snapshot).
    session.commit()
    limit = settings.max_model_bytes
    with (
        received(model, "model", limit) as model_path,
        received(group_model, "group_model", limit)
        if group_model is not None
        else nullcontext(None) as group_path,
    ):
        checked = service.check_pair(
            schema,
            sample,
            group_expression,
            group_path,
            model_path,
            limits=service.sample_limits(settings),
        )
        model_sha = store.put_file(model_path)
        group_sha = store.put_file(group_path) if group_path is not None else None
    # The slow part is done: take the write lock (SQLite), and check again what another
    # request may have changed meanwhile.
    begin_write(session)
    session.refresh(round_)
    if round_.status != RoundStatus.OPEN:
        raise Problem(
            409, "round-not-open", f"the round is {round_.status}; it takes no submissions"
        )
    service.require_quota(service.quota(session, round_, team))
    sub = Submission(
        round_id=round_.id,
        team_id=team.id,
        user_id=user.id,
        idempotency_key=idempotency_key,
        note=note,
        group_kind="rule" if group_expression is not None else "model",
        group_expression=group_expression,
        group_columns=list(checked.group_columns),
        group_model_sha=group_sha,
        model_sha=model_sha,
        model_format=checked.model_format,
    )
    try:
        with session.begin_nested():
            session.add(sub)
    except IntegrityError:
        # The same Idempotency-Key raced in twice: answer with the one that won.
        sub = session.scalars(
            select(Submission).where(
                Submission.user_id == user.id, Submission.idempotency_key == idempotency_key
            )
        ).one()
    accepted = _accepted(session, response, sub, round_, team)
    touch(session, round_.id)  # the team's submission count on the leaderboard
    session.commit()  # durable before the 202 goes out
    notifier.notify(about_submission(sub.id))
    return accepted


def _accepted(
    session: Session, response: Response, sub: Submission, round_: Round, team: Team
) -> SubmissionAccepted:
    response.headers["Location"] = f"/api/v1/submissions/{sub.id}"
    return SubmissionAccepted(
        submission=to_out(sub, round_, organizer=False),
        quota=service.quota(session, round_, team),
    )


def _visible(session: Session, user: User, submission_id: int) -> tuple[Submission, Round]:
    """The submission if the caller's team made it or the caller runs its round; else 404."""
    sub = session.get(Submission, submission_id)
    round_ = session.get(Round, sub.round_id) if sub is not None else None
    if sub is None or round_ is None:
        raise Problem(404, "submission-not-found", "no such submission")
    if not is_organizer_of(round_, user):
        team = team_of(session, user.id, round_.id)
        if team is None or team.id != sub.team_id:
            raise Problem(404, "submission-not-found", "no such submission")
    return sub, round_


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
    of the public train split it selects. For live validation while typing."""
    round_ = visible_round(session, slug, user)
    return service.check_expression(store, round_, body.expression)


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
        sub, round_ = _visible(session, user, submission_id)
        shown = to_out(sub, round_, organizer=is_organizer_of(round_, user))
        return shown.model_dump_json().encode()

    return Response(await read_in_thread(request, read), media_type="application/json")


def _signed_in(session: Session, token: str | None, settings: Settings) -> User:
    """The caller of a read done in ``read_in_thread`` (as ``CurrentUser`` would be)."""
    user = resolve_user(session, token, settings)
    if user is None:
        raise Problem(
            401, "not-authenticated", "sign in first", headers={"WWW-Authenticate": "Bearer"}
        )
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
        sub, round_ = _visible(session, user, submission_id)
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
                raise Problem(404, "submission-not-found", "no such submission")
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


@router.post(
    "/submissions/{submission_id}/disqualify",
    response_model=DisqualifiedOut,
    responses=problems(401, 403, 404, 409),
)
def disqualify(
    submission_id: SubmissionId,
    body: DisqualifyIn,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    store: StoreDep,
) -> DisqualifiedOut:
    """Disqualify a submission (the round's organizer only). If it was accepted, the round is
    replayed without it from the stored outputs: later verdicts, the model versions and the
    leaderboard change accordingly. The action is audited."""
    sub, round_ = _locked_for_organizer(session, user, submission_id, "disqualify")
    if sub.disqualified_at is not None:
        raise Problem(409, "already-disqualified", "the submission is already disqualified")
    sub.disqualified_at = utcnow()
    sub.disqualified_reason = body.reason
    touch(session, round_.id)
    before = round_.head_version
    if sub.outcome == "accepted":
        replay = _replayed(session, store, request, round_)
    else:
        if sub.status == SubmissionStatus.DECIDED:
            mark_disqualified(sub)
        replay = ReplayOut(
            head_version_before=before, head_version_after=before, changed_submissions=[sub.id]
        )
    audit.record(
        session,
        "submission.disqualified",
        round_id=round_.id,
        actor_id=user.id,
        submission_id=sub.id,
        reason=body.reason,
        changed=replay.changed_submissions,
    )
    return DisqualifiedOut(submission=to_out(sub, round_, organizer=True), replay=replay)


@router.post(
    "/submissions/{submission_id}/release",
    response_model=ReleasedOut,
    responses=problems(401, 403, 404, 409),
)
def release(
    submission_id: SubmissionId,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    store: StoreDep,
) -> ReleasedOut:
    """Release a pair the test-split guard held for review (the round's organizer only): the
    round is replayed with the guard waived for it, so it is accepted at its place in arrival
    order and later verdicts, the model versions and the leaderboard follow. Audited."""
    sub, round_ = _locked_for_organizer(session, user, submission_id, "release")
    if sub.reason != "held_for_review" or sub.released_at is not None:
        raise Problem(
            409, "not-held", "only a pair held for review, and not yet released, can be released"
        )
    sub.released_at = utcnow()
    touch(session, round_.id)
    replay = _replayed(session, store, request, round_)
    audit.record(
        session,
        "submission.released",
        round_id=round_.id,
        actor_id=user.id,
        submission_id=sub.id,
        changed=replay.changed_submissions,
    )
    return ReleasedOut(submission=to_out(sub, round_, organizer=True), replay=replay)


def _locked_for_organizer(
    session: Session, user: User, submission_id: int, action: str
) -> tuple[Submission, Round]:
    """The submission and its round, locked, for the round's organizer (403 for others), as
    of the lock: a verdict may have landed meanwhile."""
    sub, round_ = _visible(session, user, submission_id)
    if not is_organizer_of(round_, user):
        raise Problem(403, "round-organizer-only", f"only the round's organizer may {action}")
    round_ = get_round(session, round_.slug, for_update=True)
    session.refresh(sub)
    return sub, round_


def _replayed(session: Session, store: ArtifactStore, request: Request, round_: Round) -> ReplayOut:
    """Replay the round from its stored outputs; what it changed."""
    result = replay_round(session, store, round_cache(request), round_)
    return ReplayOut(
        head_version_before=result.head_version_before,
        head_version_after=result.head_version_after,
        changed_submissions=result.changed,
    )


def round_cache(request: Request) -> RoundCache:
    """The API process's cache of round states (used for replays)."""
    cache: RoundCache | None = getattr(request.app.state, "round_cache", None)
    if cache is None:
        settings = request.app.state.settings
        cache = RoundCache(
            request.app.state.store,
            settings.storage_dir.parent / "api-cache",
            Limits.from_settings(settings),
        )
        request.app.state.round_cache = cache
    return cache
