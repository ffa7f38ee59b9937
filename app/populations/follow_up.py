"""A follow-up round on a deployment population: the same rules and features, the source
round's public train split, the population as the holdout, and the source round's current
model (a bundle) as the base model (docs/populations.md)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from app.auth.models import User
from app.core import audit
from app.core.storage import ArtifactStore
from app.leaderboard.service import export_round
from app.populations.models import Population
from app.populations.service import AFTER_OPENING, read_population
from app.rounds import datasets, service
from app.rounds.access import require_organizer_of, require_status
from app.rounds.base_model import set_exported_base_model
from app.rounds.engine_view import load_split, round_schema
from app.rounds.models import Round
from app.rounds.schemas import RoundCreate
from bounty_engine.losses import LossKind

_COPIED = (
    "loss_clip", "loss_costs", "alpha", "min_group_rows", "repair_alpha", "acceptance_test",
    "confidence", "planned_submissions", "test_guard", "daily_quota", "max_team_size",
    "disclosure",
)  # fmt: skip


def create_follow_up(
    session: Session,
    store: ArtifactStore,
    source: Round,
    population: Population,
    user: User,
    *,
    title: str,
    slug: str | None = None,
) -> Round:
    """A draft round whose holdout is ``population``, starting from ``source``'s current model
    (its organizer only). Opening it scores that model in the sandbox."""
    require_organizer_of(source, user)
    require_status(source, AFTER_OPENING, "start a follow-up round")
    rules = {name: getattr(source, name) for name in _COPIED}
    description = (
        f"A follow-up of **{source.title}** (`{source.slug}`): its model at version "
        f"{source.head_version} is the base model here, and the hidden holdout is the "
        f"population *{population.name}* ({population.n_rows} rows) from where it is deployed."
    )
    new = service.create_round(
        session,
        user,
        RoundCreate(
            title=title,
            slug=slug,
            description=description,
            loss=LossKind(source.loss_kind),
            **rules,
        ),
    )
    session.flush()
    splits = {
        "train": load_split(store, source, "train"),
        "holdout": read_population(store, population),
        "test": load_split(store, source, "test"),
    }
    raw = {"population": population.data_sha}
    datasets.store_splits(
        session, store, new, user, schema=round_schema(source), splits=splits, raw=raw
    )
    with tempfile.TemporaryDirectory(prefix="bounty-follow-up-") as tmp:
        bundle = export_round(session, store, source, Path(tmp) / "model.zip")
        set_exported_base_model(session, store, new, user, bundle.read_bytes())
    audit.record(
        session,
        "round.follow_up_created",
        round_id=new.id,
        actor_id=user.id,
        source=source.slug,
        source_version=source.head_version,
        population_id=population.id,
    )
    return new
