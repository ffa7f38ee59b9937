"""ORM models of deployment populations, their measurements and who may add them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class Population(Base):
    """A labelled table from where a round's model is deployed. Never shown to participants,
    never used to accept a pair: every version is measured on it (docs/populations.md)."""

    __tablename__ = "populations"
    __table_args__ = (UniqueConstraint("round_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    n_rows: Mapped[int]
    data_sha: Mapped[str] = mapped_column(String(64))
    """The table as stored: the round's feature columns and its label, as Parquet."""
    uploaded_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    base_outputs_sha: Mapped[str | None] = mapped_column(String(64), default=None)
    """The base model's predictions on it (run in the sandbox); null until measured."""
    error: Mapped[str | None] = mapped_column(Text, default=None)
    """Why it could not be measured (the base model failed on it); null otherwise."""
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class PopulationOutput(Base):
    """An accepted pair run on a population in the sandbox: its group and its predictions there,
    or why it could not run."""

    __tablename__ = "population_outputs"
    __table_args__ = (UniqueConstraint("population_id", "submission_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    population_id: Mapped[int] = mapped_column(
        ForeignKey("populations.id", ondelete="CASCADE"), index=True
    )
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    outputs_sha: Mapped[str | None] = mapped_column(String(64), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Deployer(Base):
    """A user the round's organizer allowed to add populations to the round and to read the
    figures of the populations they added (a downstream customer)."""

    __tablename__ = "round_deployers"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    granted_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WatchedGroup(Base):
    """A group the organizer names, measured on every population next to the accepted ones."""

    __tablename__ = "watched_groups"
    __table_args__ = (UniqueConstraint("round_id", "expression"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    expression: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
