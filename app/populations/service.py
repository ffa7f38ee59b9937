"""Adding deployment populations, naming groups to watch on them, and who may do either
(docs/populations.md)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.core import audit
from app.core.storage import ArtifactStore
from app.populations.models import Deployer, Population, WatchedGroup
from app.populations.problems import (
    DeployerNotFound,
    NotDeployer,
    PopulationNameTaken,
    PopulationNotFound,
)
from app.rounds.access import is_organizer_of, require_organizer_of, require_status
from app.rounds.engine_view import engine_errors, round_schema
from app.rounds.models import Round, RoundStatus
from bounty_engine.data import label_values, prepare_features, read_table
from bounty_engine.groups import RuleGroup
from bounty_engine.predictions import encode_labels

AFTER_OPENING = (RoundStatus.OPEN, RoundStatus.FROZEN, RoundStatus.CLOSED)


def is_deployer(session: Session, round_: Round, user: User | None) -> bool:
    """Whether the round's organizer made ``user`` one of its deployers."""
    if user is None:
        return False
    found = session.scalar(
        select(Deployer.id).where(Deployer.round_id == round_.id, Deployer.user_id == user.id)
    )
    return found is not None


def require_adder(session: Session, round_: Round, user: User) -> None:
    """403 unless ``user`` organizes the round or is one of its deployers."""
    if not (is_organizer_of(round_, user) or is_deployer(session, round_, user)):
        raise NotDeployer(
            "only the round's organizer, and the deployers the organizer names, may add "
            "populations to it"
        )


def add_population(
    session: Session,
    store: ArtifactStore,
    round_: Round,
    user: User,
    *,
    path: Path,
    name: str,
    description: str = "",
) -> Population:
    """Check an uploaded table against the round's schema (its features and a known label on
    every row) and store it as a population of the round, to be measured by the workers."""
    require_adder(session, round_, user)
    require_status(round_, AFTER_OPENING, "add a population")
    if session.scalar(
        select(Population.id).where(Population.round_id == round_.id, Population.name == name)
    ):
        raise PopulationNameTaken(f"the round already has a population called {name!r}")
    schema = round_schema(round_)
    with engine_errors("file"):
        frame = read_table(path)
        prepare_features(frame, schema)
        encode_labels(label_values(frame, schema), schema.label)
    table = frame[[*schema.feature_names, schema.label.name]]
    with tempfile.TemporaryDirectory(prefix="bounty-population-") as tmp:
        stored = Path(tmp) / "population.parquet"
        table.to_parquet(stored, index=False)
        data_sha = store.put_file(stored)
    population = Population(
        round_id=round_.id,
        name=name,
        description=description,
        n_rows=len(table),
        data_sha=data_sha,
        uploaded_by=user.id,
    )
    session.add(population)
    session.flush()
    audit.record(
        session,
        "population.added",
        round_id=round_.id,
        actor_id=user.id,
        population_id=population.id,
        name=name,
        rows=len(table),
        sha256=data_sha,
    )
    return population


def read_population(store: ArtifactStore, population: Population) -> pd.DataFrame:
    """The population's rows as stored (the round's features and label)."""
    with store.local_copy(population.data_sha) as path:
        return pd.read_parquet(path)


def populations_for(session: Session, round_: Round, user: User) -> list[Population]:
    """The round's populations ``user`` may read: all for its organizer, their own for a
    deployer; 403 for anyone else."""
    require_adder(session, round_, user)
    query = select(Population).where(Population.round_id == round_.id).order_by(Population.id)
    if not is_organizer_of(round_, user):
        query = query.where(Population.uploaded_by == user.id)
    return list(session.scalars(query))


def population_for(session: Session, round_: Round, population_id: int, user: User) -> Population:
    """One population ``user`` may read; 404 if it is not theirs to read (or not there)."""
    for population in populations_for(session, round_, user):
        if population.id == population_id:
            return population
    raise PopulationNotFound(f"round {round_.slug!r} has no population {population_id} for you")


def grant_deployer(session: Session, round_: Round, organizer: User, email: str) -> User:
    """Let the user with ``email`` add populations to the round (its organizer only)."""
    require_organizer_of(round_, organizer)
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise DeployerNotFound(f"there is no user {email!r}; they sign up first")
    if not is_deployer(session, round_, user):
        session.add(Deployer(round_id=round_.id, user_id=user.id, granted_by=organizer.id))
        audit.record(
            session, "deployer.granted", round_id=round_.id, actor_id=organizer.id, user=user.id
        )
    return user


def revoke_deployer(session: Session, round_: Round, organizer: User, user_id: int) -> None:
    """Take the deployer role back (their populations stay, read by the organizer)."""
    require_organizer_of(round_, organizer)
    found = session.scalar(
        select(Deployer).where(Deployer.round_id == round_.id, Deployer.user_id == user_id)
    )
    if found is None:
        raise DeployerNotFound(f"user {user_id} is not a deployer of this round")
    session.delete(found)
    audit.record(
        session, "deployer.revoked", round_id=round_.id, actor_id=organizer.id, user=user_id
    )


def deployers(session: Session, round_: Round) -> list[User]:
    """The round's deployers, in the order they were named."""
    return list(
        session.scalars(
            select(User)
            .join(Deployer, Deployer.user_id == User.id)
            .where(Deployer.round_id == round_.id)
            .order_by(Deployer.id)
        )
    )


def watch_group(session: Session, round_: Round, organizer: User, expression: str) -> WatchedGroup:
    """Name a group (a rule) to measure on every population (the round's organizer only)."""
    require_organizer_of(round_, organizer)
    with engine_errors("expression"):
        text = RuleGroup.parse(expression, round_schema(round_)).rule.text
    found = session.scalar(
        select(WatchedGroup).where(
            WatchedGroup.round_id == round_.id, WatchedGroup.expression == text
        )
    )
    if found is not None:
        return found
    group = WatchedGroup(round_id=round_.id, expression=text, created_by=organizer.id)
    session.add(group)
    session.flush()
    return group


def watched_groups(session: Session, round_: Round) -> list[WatchedGroup]:
    """The groups the organizer named, oldest first."""
    return list(
        session.scalars(
            select(WatchedGroup).where(WatchedGroup.round_id == round_.id).order_by(WatchedGroup.id)
        )
    )
