"""Routes of the teams domain: create, join, leave, list, and the organizer's member view."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from app.auth.deps import CurrentUser, OptionalUser
from app.core.deps import RoundSlug, SessionDep, TeamId
from app.core.openapi import problems
from app.rounds.access import visible_round
from app.rounds.models import Round
from app.teams import service
from app.teams.models import Team
from app.teams.problems import NoTeam
from app.teams.schemas import (
    JoinTeam,
    MemberAdminOut,
    MemberOut,
    MyTeamOut,
    TeamCreate,
    TeamOut,
)

router = APIRouter(prefix="/api/v1", tags=["teams"])


def _my_team(session: Session, team: Team, round_: Round) -> MyTeamOut:
    return MyTeamOut(
        id=team.id,
        round_id=round_.id,
        name=team.name,
        invite_code=team.invite_code,
        max_team_size=round_.max_team_size,
        created_at=team.created_at,
        members=[
            MemberOut(display_name=user.display_name, joined_at=member.joined_at)
            for member, user in service.members(session, team.id)
        ],
    )


@router.post(
    "/rounds/{slug}/teams",
    status_code=status.HTTP_201_CREATED,
    response_model=MyTeamOut,
    responses=problems(401, 403, 404, 409, 422),
)
def create_team(
    slug: RoundSlug, body: TeamCreate, user: CurrentUser, session: SessionDep
) -> MyTeamOut:
    """Create a team in the round and become its first member.

    409 if you are already in a team of this round, the name is taken (ignoring case and
    Unicode compatibility variants) or the round is closed; 403 for the round's organizer.
    """
    round_ = visible_round(session, slug, user)
    team = service.create_team(session, user, round_, body.name)
    return _my_team(session, team, round_)


@router.post("/teams/join", response_model=MyTeamOut, responses=problems(401, 403, 404, 409, 422))
def join_team(body: JoinTeam, user: CurrentUser, session: SessionDep) -> MyTeamOut:
    """Join the team an invite code belongs to.

    404 for an unknown code; 409 if you are already in a team of that round, the team is full
    or the round is closed.
    """
    team, round_ = service.join_team(session, user, body.invite_code)
    return _my_team(session, team, round_)


@router.post(
    "/teams/{team_id}/leave",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 404, 409),
)
def leave_team(team_id: TeamId, user: CurrentUser, session: SessionDep) -> None:
    """Leave a team that has made no submissions; the last member out deletes the team."""
    service.leave_team(session, user, team_id)


@router.get("/rounds/{slug}/teams", response_model=list[TeamOut], responses=problems(401, 404))
def list_teams(slug: RoundSlug, user: OptionalUser, session: SessionDep) -> list[TeamOut]:
    """The round's teams, oldest first (public; no invite codes, no emails)."""
    round_ = visible_round(session, slug, user)
    return [
        TeamOut(id=team.id, name=team.name, member_count=count, created_at=team.created_at)
        for team, count in service.teams_with_counts(session, round_.id)
    ]


@router.get("/rounds/{slug}/my-team", response_model=MyTeamOut, responses=problems(401, 404))
def my_team(slug: RoundSlug, user: CurrentUser, session: SessionDep) -> MyTeamOut:
    """Your team in the round, with its members and invite code; 404 if you have none."""
    round_ = visible_round(session, slug, user)
    team = service.team_of(session, user.id, round_.id)
    if team is None:
        raise NoTeam("you are not in a team of this round")
    return _my_team(session, team, round_)


@router.get(
    "/rounds/{slug}/teams/{team_id}/members",
    response_model=list[MemberAdminOut],
    responses=problems(401, 403, 404),
)
def team_members(
    slug: RoundSlug, team_id: TeamId, user: CurrentUser, session: SessionDep
) -> list[MemberAdminOut]:
    """A team's members with their emails (the round's organizer only)."""
    round_ = visible_round(session, slug, user)
    team = service.team_in_round_for_organizer(session, user, round_, team_id)
    return [
        MemberAdminOut(
            user_id=account.id,
            display_name=account.display_name,
            email=account.email,
            joined_at=member.joined_at,
        )
        for member, account in service.members(session, team.id)
    ]
