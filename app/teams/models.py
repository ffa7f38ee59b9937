"""ORM models of teams and their members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow
from app.teams.names import team_name_key


def _name_key(context: DefaultExecutionContext) -> str:
    parameters: dict[str, str] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return team_name_key(parameters["name"])


class Team(Base):
    """A team entered in one round."""

    __tablename__ = "teams"
    __table_args__ = (
        UniqueConstraint("round_id", "name"),
        UniqueConstraint("round_id", "name_key", name="uq_teams_round_id_name_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # The name folded for comparison (NFKC, Unicode case folding, which can lengthen it);
    # unique per round, so two teams cannot share a name that differs only in case or Unicode
    # variant, even when created at the same moment.
    name_key: Mapped[str] = mapped_column(String(255), default=_name_key)
    invite_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TeamMember(Base):
    """A user's membership of a team; a user is in at most one team per round."""

    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
