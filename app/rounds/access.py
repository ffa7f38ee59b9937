"""Finding rounds and checking who may see or run them (404 and 403 problems), and the status
guards (409) that every action on a round goes through."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.rounds.models import ModelVersion, Round, RoundStatus
from app.rounds.problems import InvalidRoundStatus, NotRoundOrganizer, RoundNotFound


def get_round(session: Session, slug: str, *, for_update: bool = False) -> Round:
    """The round called ``slug`` (its row locked with ``for_update``); 404 if there is none."""
    query = select(Round).where(Round.slug == slug)
    if for_update:
        # Locked, the row is re-read: values loaded earlier in the session may be stale.
        query = query.with_for_update().execution_options(populate_existing=True)
    found = session.scalar(query)
    if found is None:
        raise RoundNotFound(f"there is no round {slug!r}")
    return found


def touch(session: Session, round_id: int) -> None:
    """Bump the round's revision: something its leaderboard shows has changed. Also takes the
    round's row lock until the transaction ends."""
    session.execute(update(Round).where(Round.id == round_id).values(revision=Round.revision + 1))


def is_organizer_of(round: Round, user: User | None) -> bool:
    """Whether ``user`` runs ``round``."""
    return user is not None and user.id == round.organizer_id


def require_organizer_of(round: Round, user: User | None) -> None:
    """403 unless ``user`` is the round's organizer."""
    if not is_organizer_of(round, user):
        raise NotRoundOrganizer("only the organizer of this round may do this")


def visible_round(session: Session, slug: str, user: User | None) -> Round:
    """The round if ``user`` may see it: drafts only to their organizer (404 to anyone else)."""
    found = get_round(session, slug)
    if found.status == RoundStatus.DRAFT and not is_organizer_of(found, user):
        raise RoundNotFound(f"there is no round {slug!r}")
    return found


def list_rounds(session: Session, user: User | None, *, limit: int, offset: int) -> list[Round]:
    """Non-draft rounds, plus the caller's own drafts for organizers; newest first."""
    visible: ColumnElement[bool] = Round.status != RoundStatus.DRAFT.value
    if user is not None and user.role == Role.ORGANIZER:
        visible = or_(visible, Round.organizer_id == user.id)
    query = (
        select(Round)
        .where(visible)
        .order_by(Round.created_at.desc(), Round.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query))


def model_versions(session: Session, round: Round) -> list[ModelVersion]:
    """The round's model versions, oldest first."""
    query = (
        select(ModelVersion).where(ModelVersion.round_id == round.id).order_by(ModelVersion.version)
    )
    return list(session.scalars(query))


def head_model_version(session: Session, round: Round) -> ModelVersion | None:
    """The row of the round's newest model version (None before the round opens)."""
    return session.scalar(
        select(ModelVersion).where(
            ModelVersion.round_id == round.id, ModelVersion.version == round.head_version
        )
    )


def require_draft(round: Round, action: str) -> None:
    """409 unless the round is a draft."""
    require_status(round, (RoundStatus.DRAFT,), action)


def require_status(round: Round, allowed: tuple[RoundStatus, ...], action: str) -> None:
    """409 unless the round's status is one of ``allowed``."""
    if round.status not in allowed:
        wanted = " or ".join(status.value for status in allowed)
        raise InvalidRoundStatus(
            f"cannot {action}: the round is {round.status}, and this needs it to be {wanted}",
            round_status=str(round.status),
        )
