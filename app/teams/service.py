"""Teams: creation, invite codes, joining and leaving, and who is in which team.

Concurrency: creating a team locks the round's row and joining or leaving locks the team's row
(``FOR NO KEY UPDATE`` / ``FOR UPDATE`` on PostgreSQL; SQLite serializes writers), so that
case-insensitive name uniqueness and the team size limit hold under concurrent requests. The
database's unique (round, user) constraint is the last word on one team per user per round.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import User
from app.core.audit import record
from app.core.errors import Problem
from app.rounds.access import is_organizer_of, touch
from app.rounds.models import Round, RoundStatus
from app.rounds.problems import RoundClosed, RoundOrganizerOnly
from app.submissions.models import Submission
from app.teams.models import Team, TeamMember
from app.teams.names import normalize_team_name, team_name_key
from app.teams.problems import (
    AlreadyInTeam,
    InvalidTeamName,
    InviteCodeNotFound,
    NotATeamMember,
    OrganizerCannotEnter,
    TeamFull,
    TeamHasSubmissions,
    TeamNameTaken,
    TeamNotFound,
    TeamRequired,
)

INVITE_CODE_BYTES = 8  # 11 url-safe characters, 64 bits


def _invite_not_found() -> Problem:
    return InviteCodeNotFound("no team has this invite code")


def _already_in_team() -> Problem:
    return AlreadyInTeam("you are already in a team of this round")


def team_of(session: Session, user_id: int, round_id: int) -> Team | None:
    """The team ``user_id`` is in for round ``round_id``, if any."""
    return session.scalar(
        select(Team)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.round_id == round_id, TeamMember.user_id == user_id)
    )


def require_team(session: Session, user: User, round_: Round) -> Team:
    """The caller's team in ``round_``; 403 if they have none."""
    team = team_of(session, user.id, round_.id)
    if team is None:
        raise TeamRequired("join or create a team first")
    return team


def _check_can_enter(user: User, round_: Round) -> None:
    """403 for the round's own organizer, 409 once the round is closed."""
    if is_organizer_of(round_, user):
        raise OrganizerCannotEnter("organizers may not enter their own round")
    if round_.status == RoundStatus.CLOSED:
        raise RoundClosed("the round is closed; teams can no longer change")


def _new_invite_code(session: Session) -> str:
    """A random url-safe invite code not used by any team."""
    while True:
        code = secrets.token_urlsafe(INVITE_CODE_BYTES)
        if not session.scalar(select(exists().where(Team.invite_code == code))):
            return code


def _insert(session: Session, row: Team | TeamMember, conflict: Problem) -> None:
    """Insert ``row`` in a savepoint; ``conflict`` if a unique constraint refuses it."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise conflict from exc


def _check_name_free(session: Session, round_id: int, name: str) -> None:
    """409 if the round has a team whose name matches ``name`` ignoring case and variants."""
    taken = select(Team.id).where(Team.round_id == round_id, Team.name_key == team_name_key(name))
    if session.scalar(taken) is not None:
        raise TeamNameTaken("a team of this round already has this name")


def create_team(session: Session, user: User, round_: Round, name: str) -> Team:
    """A new team in ``round_`` with ``user`` as its first member."""
    _check_can_enter(user, round_)
    try:
        name = normalize_team_name(name)
    except ValueError as exc:
        raise InvalidTeamName(str(exc)) from exc
    touch(session, round_.id)  # a new leaderboard row; also serializes team creation
    if team_of(session, user.id, round_.id) is not None:
        raise _already_in_team()
    _check_name_free(session, round_.id, name)
    team = Team(round_id=round_.id, name=name, invite_code=_new_invite_code(session))
    _insert(session, team, TeamNameTaken("this team name is taken"))
    _insert(
        session,
        TeamMember(team_id=team.id, user_id=user.id, round_id=round_.id),
        _already_in_team(),
    )
    record(
        session, "team.created", round_id=round_.id, actor_id=user.id, team_id=team.id, name=name
    )
    return team


def _member_count(session: Session, team_id: int) -> int:
    query = select(func.count()).select_from(TeamMember).where(TeamMember.team_id == team_id)
    return session.execute(query).scalar_one()


def _team_for_code(session: Session, user: User, invite_code: str) -> tuple[Team, Round]:
    """The team with ``invite_code``, locked, and its round; 404 if unknown or in a draft."""
    team = session.scalar(
        select(Team).where(Team.invite_code == invite_code.strip()).with_for_update()
    )
    round_ = session.get(Round, team.round_id) if team is not None else None
    if team is None or round_ is None:
        raise _invite_not_found()
    if round_.status == RoundStatus.DRAFT and not is_organizer_of(round_, user):
        raise _invite_not_found()
    return team, round_


def join_team(session: Session, user: User, invite_code: str) -> tuple[Team, Round]:
    """Add ``user`` to the team with ``invite_code``; 404 for an unknown code."""
    team, round_ = _team_for_code(session, user, invite_code)
    _check_can_enter(user, round_)
    current = team_of(session, user.id, round_.id)
    if current is not None:
        if current.id == team.id:
            raise AlreadyInTeam("you are already a member of this team")
        raise _already_in_team()
    if _member_count(session, team.id) >= round_.max_team_size:
        raise TeamFull(f"the team already has {round_.max_team_size} members")
    _insert(
        session,
        TeamMember(team_id=team.id, user_id=user.id, round_id=round_.id),
        _already_in_team(),
    )
    record(session, "team.joined", round_id=round_.id, actor_id=user.id, team_id=team.id)
    return team, round_


def leave_team(session: Session, user: User, team_id: int) -> None:
    """Take ``user`` out of the team, deleting it if it becomes empty.

    Refused once the team has made a submission (its results are attributed to its members)
    or the round is closed.
    """
    team = session.scalar(select(Team).where(Team.id == team_id).with_for_update())
    membership = session.get(TeamMember, (team_id, user.id)) if team is not None else None
    if team is None or membership is None:
        raise NotATeamMember("you are not a member of this team")
    round_ = session.get(Round, team.round_id)
    if round_ is not None and round_.status == RoundStatus.CLOSED:
        raise RoundClosed("the round is closed; teams can no longer change")
    if session.scalar(select(exists().where(Submission.team_id == team_id))):
        raise TeamHasSubmissions("members cannot leave a team that has made submissions")
    session.delete(membership)
    session.flush()
    deleted = _member_count(session, team_id) == 0
    if deleted:
        session.delete(team)
        touch(session, team.round_id)  # the team leaves the leaderboard
    record(
        session,
        "team.left",
        round_id=team.round_id,
        actor_id=user.id,
        team_id=team_id,
        team_deleted=deleted,
    )


def teams_with_counts(session: Session, round_id: int) -> Sequence[tuple[Team, int]]:
    """Every team of the round with its member count, oldest first."""
    rows = session.execute(
        select(Team, func.count(TeamMember.user_id))
        .outerjoin(TeamMember, TeamMember.team_id == Team.id)
        .where(Team.round_id == round_id)
        .group_by(Team.id)
        .order_by(Team.created_at, Team.id)
    )
    return [(team, count) for team, count in rows]


def members(session: Session, team_id: int) -> Sequence[tuple[TeamMember, User]]:
    """The team's members with their accounts, in the order they joined."""
    rows = session.execute(
        select(TeamMember, User)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id == team_id)
        .order_by(TeamMember.joined_at, TeamMember.user_id)
    )
    return [(member, user) for member, user in rows]


def team_in_round_for_organizer(session: Session, user: User, round_: Round, team_id: int) -> Team:
    """Team ``team_id`` of ``round_``; 403 unless ``user`` organizes the round, 404 if absent."""
    if not is_organizer_of(round_, user):
        raise RoundOrganizerOnly("only the round's organizer may see this")
    team = session.get(Team, team_id)
    if team is None or team.round_id != round_.id:
        raise TeamNotFound("no such team in this round")
    return team
