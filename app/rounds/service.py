"""Rounds: creating one, changing its settings, and its lifecycle (draft, open, frozen, closed).

Lookups and access checks are in ``access``, the engine's view of a round in ``engine_view``,
the dataset in ``datasets`` and the base model in ``base_model``."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import User
from app.core import audit
from app.core.db import utcnow
from app.core.storage import ArtifactStore
from app.rounds.access import require_draft, require_status
from app.rounds.base_model import load_base_model
from app.rounds.datasets import check_costs_fit, refit_schema_to_loss
from app.rounds.engine_view import engine_errors, load_split, round_rules, round_schema
from app.rounds.models import ModelVersion, Round, RoundStatus
from app.rounds.problems import (
    InvalidRoundStatus,
    InvalidSettings,
    RoundClosed,
    RulesLocked,
    SandboxRequired,
    SchedulePassed,
    SlugTaken,
)
from app.rounds.schemas import (
    RULE_FIELDS,
    RoundCreate,
    RoundUpdate,
    check_loss,
    check_schedule,
    loss_task,
)
from app.rounds.scoring import SandboxScoring
from app.rounds.train_predictions import store_train_predictions
from bounty_engine.decision import BountyEvaluator
from bounty_engine.losses import LossKind
from bounty_engine.models import ModelFormat
from bounty_engine.round import BountyRound

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_SLUG_BASE_LENGTH = 60


def slugify(title: str) -> str:
    """A URL name from a title: ASCII lowercase words joined by dashes."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = _SLUG_JUNK.sub("-", ascii_title.lower()).strip("-")
    return slug[:_SLUG_BASE_LENGTH].strip("-") or "round"


def _free_slug(session: Session, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``, ... whichever is free first."""
    taken = set(
        session.scalars(select(Round.slug).where(Round.slug.startswith(base, autoescape=True)))
    )
    if base not in taken:
        return base
    return next(f"{base}-{i}" for i in range(2, len(taken) + 3) if f"{base}-{i}" not in taken)


def create_round(session: Session, user: User, body: RoundCreate) -> Round:
    """A new draft round organized by ``user``; 409 if the requested slug is taken."""
    if body.slug is not None and session.scalar(select(Round.id).where(Round.slug == body.slug)):
        raise SlugTaken(f"the slug {body.slug!r} is already used by a round")
    settings = body.model_dump(exclude={"slug", "loss"})
    new = Round(
        slug=body.slug or _free_slug(session, slugify(body.title)),
        organizer_id=user.id,
        status=RoundStatus.DRAFT,
        loss_kind=body.loss.value,
        **settings,
    )
    try:
        with session.begin_nested():
            session.add(new)
    except IntegrityError as exc:
        raise SlugTaken(f"the slug {new.slug!r} was just taken; retry") from exc
    audit.record(session, "round.created", round_id=new.id, actor_id=user.id, slug=new.slug)
    return new


def update_round(
    session: Session, store: ArtifactStore, round: Round, user: User, body: RoundUpdate
) -> Round:
    """Apply ``body``: rules only in draft, anything only before the round is closed."""
    changes = body.changes()
    if round.status == RoundStatus.CLOSED:
        raise RoundClosed("the round is closed; it can no longer change")
    locked = sorted(RULE_FIELDS & changes.keys())
    if locked and round.status != RoundStatus.DRAFT:
        raise RulesLocked(
            f"the rules ({', '.join(locked)}) can only change while the round is a draft; "
            f"it is {round.status}",
        )
    _check_settings(round, changes)
    if "loss" in changes and round.feature_schema is not None:
        refit_schema_to_loss(store, round, loss_task(changes["loss"]))
    if round.feature_schema is not None:
        check_costs_fit(changes.get("loss_costs", round.loss_costs), round_schema(round))
    for name, value in changes.items():
        if name == "loss":
            round.loss_kind = value.value
        else:
            setattr(round, name, value)
    if changes:
        audit.record(
            session, "round.updated", round_id=round.id, actor_id=user.id, fields=sorted(changes)
        )
    return round


def _check_settings(round: Round, changes: Mapping[str, Any]) -> None:
    """422 unless the settings after ``changes`` are consistent."""

    def merged(name: str, current: Any) -> Any:
        return changes.get(name, current)

    try:
        check_loss(
            merged("loss", LossKind(round.loss_kind)),
            merged("loss_clip", round.loss_clip),
            merged("loss_costs", round.loss_costs),
        )
        check_schedule(merged("opens_at", round.opens_at), merged("closes_at", round.closes_at))
    except ValueError as exc:
        raise InvalidSettings(str(exc)) from exc


def base_version(store: ArtifactStore, round_id: int, evaluator: BountyEvaluator) -> ModelVersion:
    """Version 0 of a round (the base model) as the fitted ``evaluator`` scores it, with its
    predictions on the train split stored."""
    losses = evaluator.versions_[0].loss
    return ModelVersion(
        round_id=round_id,
        version=0,
        kind="base",
        holdout_loss=losses["holdout"],
        train_loss=losses["train"],
        test_loss=losses.get("test"),
        train_predictions_sha=store_train_predictions(store, evaluator.head_predictions("train")),
    )


def open_round(
    session: Session,
    store: ArtifactStore,
    round: Round,
    user: User,
    *,
    scoring: SandboxScoring | None = None,
) -> None:
    """draft -> open: score the base model on every split and record version 0. A bundle
    (participants' models inside) is scored by ``scoring``, in the sandbox; 503 without it."""
    require_draft(round, "open the round")
    schema = round_schema(round)
    now = utcnow()
    if round.closes_at is not None and round.closes_at <= now:
        raise SchedulePassed("closes_at is in the past; move it first")
    if round.base_model_format == ModelFormat.BUNDLE:
        if scoring is None:
            raise SandboxRequired("this round's base model runs only in the evaluation sandbox")
        with engine_errors():
            evaluator = scoring.fitted_evaluator(round)
    else:
        base = load_base_model(store, round, schema)
        splits = {
            name: load_split(store, round, name)
            for name in ("holdout", "train", "test")
            if getattr(round, f"n_{name}") > 0
        }
        with engine_errors():
            evaluator = BountyRound(schema, round_rules(round), base, splits).evaluator
    losses = evaluator.versions_[0].loss
    version = base_version(store, round.id, evaluator)
    try:
        with session.begin_nested():
            session.add(version)
    except IntegrityError as exc:
        raise InvalidRoundStatus("the round was opened meanwhile") from exc
    round.status = RoundStatus.OPEN
    round.head_version = 0
    if round.opens_at is None or round.opens_at > now:
        round.opens_at = now
    audit.record(session, "round.opened", round_id=round.id, actor_id=user.id, losses=losses)


def freeze_round(session: Session, round: Round, user: User) -> None:
    """open -> frozen: no new submissions; queued ones are still decided."""
    require_status(round, (RoundStatus.OPEN,), "freeze the round")
    round.status = RoundStatus.FROZEN
    audit.record(session, "round.frozen", round_id=round.id, actor_id=user.id)


def close_round(session: Session, round: Round, user: User) -> None:
    """open or frozen -> closed: final."""
    require_status(round, (RoundStatus.OPEN, RoundStatus.FROZEN), "close the round")
    now = utcnow()
    round.status = RoundStatus.CLOSED
    if round.closes_at is None or round.closes_at > now:
        round.closes_at = now
    audit.record(session, "round.closed", round_id=round.id, actor_id=user.id)
