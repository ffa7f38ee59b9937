"""Routes that run the evaluation: submitting a pair (checked at once in the sandbox on the public
sample, then queued), and the organizer's disqualification and release, which replay the round."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Request, Response, UploadFile
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.deps import CurrentUser
from app.auth.models import User
from app.core import audit
from app.core.db import begin_write, utcnow
from app.core.deps import (
    NotifierDep,
    RoundSlug,
    SessionDep,
    SettingsDep,
    StoreDep,
    SubmissionId,
    writes_late,
)
from app.core.errors import UnsupportedMediaType
from app.core.notify import about_submission
from app.core.openapi import problems
from app.core.storage import ArtifactStore
from app.core.uploads import received
from app.evaluation.checks import check_pair, sample_limits
from app.evaluation.deps import round_cache
from app.evaluation.replay import mark_disqualified, replay_round
from app.rounds.access import get_round, is_organizer_of, touch
from app.rounds.engine_view import round_schema
from app.rounds.models import Round, RoundStatus
from app.rounds.problems import RoundNotOpen, RoundOrganizerOnly
from app.submissions import service
from app.submissions.models import Submission, SubmissionStatus
from app.submissions.problems import AlreadyDisqualified, GroupRequired, NotHeld
from app.submissions.schemas import (
    DisqualifiedOut,
    DisqualifyIn,
    ReleasedOut,
    ReplayOut,
    SubmissionAccepted,
)
from app.submissions.views import to_out, visible_submission
from app.teams.models import Team
from app.teams.service import require_team

router = APIRouter(prefix="/api/v1", tags=["submissions"])


def require_multipart(request: Request) -> None:
    """415 unless the body is multipart/form-data."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise UnsupportedMediaType("send the submission as multipart/form-data")


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
        raise RoundNotOpen(f"the round is {round_.status}; it takes no submissions")
    if (group_expression is None) == (group_model is None):
        raise GroupRequired(
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
        checked = check_pair(
            schema,
            sample,
            group_expression,
            group_path,
            model_path,
            limits=sample_limits(settings),
        )
        model_sha = store.put_file(model_path)
        group_sha = store.put_file(group_path) if group_path is not None else None
    # The slow part is done: take the write lock (SQLite), and check again what another
    # request may have changed meanwhile.
    begin_write(session)
    session.refresh(round_)
    if round_.status != RoundStatus.OPEN:
        raise RoundNotOpen(f"the round is {round_.status}; it takes no submissions")
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
        raise AlreadyDisqualified("the submission is already disqualified")
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
        raise NotHeld("only a pair held for review, and not yet released, can be released")
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
    sub, round_ = visible_submission(session, user, submission_id)
    if not is_organizer_of(round_, user):
        raise RoundOrganizerOnly(f"only the round's organizer may {action}")
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
