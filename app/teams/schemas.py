"""Request and response bodies of the teams endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from app.teams.names import NAME_MAX, normalize_team_name

TeamName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX),
    AfterValidator(normalize_team_name),
]


class TeamCreate(BaseModel):
    """A new team in a round; the caller becomes its first member."""

    name: TeamName = Field(
        description=(
            "1 to 80 characters, stripped and NFKC-normalized; no control characters. Unique "
            "in the round, ignoring case and compatibility variants (e.g. fullwidth letters)."
        ),
        examples=["Fairness Hunters"],
    )


class JoinTeam(BaseModel):
    """An invite code received from a member of the team."""

    invite_code: str = Field(
        min_length=1,
        max_length=32,
        description="The team's invite code, as shown to its members.",
        examples=["q3ZkV8hT_xM"],
    )


class TeamOut(BaseModel):
    """A team as anyone may see it: no invite code, no members' emails."""

    id: int = Field(examples=[7])
    name: str = Field(examples=["Fairness Hunters"])
    member_count: int = Field(description="Current number of members.", examples=[3])
    created_at: datetime = Field(examples=["2026-11-10T14:00:00Z"])


class MemberOut(BaseModel):
    """A member as the team's own members see them."""

    display_name: str = Field(examples=["Ada"])
    joined_at: datetime = Field(examples=["2026-11-10T14:05:00Z"])


class MyTeamOut(BaseModel):
    """The caller's own team, with its invite code (shown to members only)."""

    id: int = Field(examples=[7])
    round_id: int = Field(examples=[1])
    name: str = Field(examples=["Fairness Hunters"])
    invite_code: str = Field(
        description="Share it with people who should join this team.", examples=["q3ZkV8hT_xM"]
    )
    max_team_size: int = Field(description="The round's limit on members.", examples=[5])
    created_at: datetime = Field(examples=["2026-11-10T14:00:00Z"])
    members: list[MemberOut] = Field(description="In the order they joined.")


class MemberAdminOut(BaseModel):
    """A member as the round's organizer sees them."""

    user_id: int = Field(examples=[42])
    display_name: str = Field(examples=["Ada"])
    email: str = Field(examples=["ada@example.org"])
    joined_at: datetime = Field(examples=["2026-11-10T14:05:00Z"])
