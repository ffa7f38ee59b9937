"""Submissions as a viewer may see them, and finding one the caller may see."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.models import User
from app.rounds.access import is_organizer_of
from app.rounds.models import Round
from app.submissions.disclosure import verdict_for
from app.submissions.models import Submission
from app.submissions.problems import SubmissionNotFound
from app.submissions.schemas import SubmissionOut
from app.teams.service import team_of


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


def visible_submission(
    session: Session, user: User, submission_id: int
) -> tuple[Submission, Round]:
    """The submission if the caller's team made it or the caller runs its round; else 404."""
    sub = session.get(Submission, submission_id)
    round_ = session.get(Round, sub.round_id) if sub is not None else None
    if sub is None or round_ is None:
        raise SubmissionNotFound("no such submission")
    if not is_organizer_of(round_, user):
        team = team_of(session, user.id, round_.id)
        if team is None or team.id != sub.team_id:
            raise SubmissionNotFound("no such submission")
    return sub, round_
